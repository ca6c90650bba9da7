using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

public sealed class SchedulerConfigTests
{
    // stabilityai/stable-diffusion-2-1-base/scheduler/scheduler_config.json (no timestep_spacing key).
    private const string Sd21BaseJson = """
        {
          "_class_name": "PNDMScheduler",
          "_diffusers_version": "0.8.0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "trained_betas": null
        }
        """;

    [Fact]
    public void Parse_of_the_sd21_base_file_equals_the_built_in_reference_config() =>
        Assert.Equal(SchedulerConfig.StableDiffusion21Base, SchedulerConfig.Parse(Sd21BaseJson));

    [Theory]
    [InlineData("PNDMScheduler", "leading")]
    [InlineData("DDIMScheduler", "leading")]
    [InlineData("EulerDiscreteScheduler", "linspace")]
    [InlineData("EulerAncestralDiscreteScheduler", "linspace")]
    [InlineData("DPMSolverMultistepScheduler", "linspace")]
    [InlineData("LMSDiscreteScheduler", "linspace")]
    public void Parse_defaults_a_missing_timestep_spacing_to_the_class_default(string className, string expected) =>
        Assert.Equal(expected, SchedulerConfig.Parse($$"""{ "_class_name": "{{className}}" }""").TimestepSpacing);

    [Fact]
    public void Parse_defaults_clip_sample_and_set_alpha_to_one_to_true_for_ddim()
    {
        var ddim = SchedulerConfig.Parse("""{ "_class_name": "DDIMScheduler" }""");
        var pndm = SchedulerConfig.Parse("""{ "_class_name": "PNDMScheduler" }""");

        Assert.True(ddim.ClipSample);
        Assert.True(ddim.SetAlphaToOne);
        Assert.False(pndm.ClipSample);
        Assert.False(pndm.SetAlphaToOne);
    }

    [Fact]
    public void Parse_reads_dpm_solver_settings()
    {
        var config = SchedulerConfig.Parse("""
            { "_class_name": "DPMSolverMultistepScheduler", "use_karras_sigmas": true, "solver_order": 1,
              "lower_order_final": false, "final_sigmas_type": "sigma_min" }
            """);

        Assert.True(config.UseKarrasSigmas);
        Assert.Equal(1, config.SolverOrder);
        Assert.False(config.LowerOrderFinal);
        Assert.Equal("sigma_min", config.FinalSigmasType);
    }

    [Fact]
    public void Schedulers_reject_an_unsupported_beta_schedule()
    {
        var config = SchedulerConfig.StableDiffusion21Base with { BetaSchedule = "squaredcos_cap_v2" };

        var error = Assert.Throws<NotSupportedException>(() => SchedulerFactory.Create("DDIM", config));
        Assert.Contains("beta_schedule", error.Message);
    }

    // A DPMSolverMultistepScheduler config as diffusers' save_config writes it: Python's json emits -Infinity and NaN bare.
    private const string DiffusersDpmJson = """
        {
          "_class_name": "DPMSolverMultistepScheduler",
          "_diffusers_version": "0.27.2",
          "algorithm_type": "dpmsolver++",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "lambda_min_clipped": -Infinity,
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "sample_max_value": 1.0,
          "solver_order": 2,
          "steps_offset": 1,
          "timestep_spacing": "linspace",
          "trained_betas": null,
          "variance_type": null,
          "dynamic_thresholding_ratio": NaN,
          "note": "NaN and -Infinity inside a string stay text"
        }
        """;

    [Fact]
    public void Parse_reads_python_json_literals_in_a_diffusers_config()
    {
        var config = SchedulerConfig.Parse(DiffusersDpmJson);

        Assert.Equal(double.NegativeInfinity, config.LambdaMinClipped);
        Assert.Equal("DPMSolverMultistepScheduler", config.ClassName);
        Assert.Equal("linspace", config.TimestepSpacing);
    }

    [Fact]
    public void Python_json_literals_become_strings_only_outside_strings()
    {
        var text = StableDiffusion.Core.Models.PythonJson.Normalize("""{"a": -Infinity, "b": [NaN, Infinity], "c": "NaN -Infinity \" NaN", "NaNx": 1}""");

        Assert.Equal("""{"a": "-Infinity", "b": ["NaN", "Infinity"], "c": "NaN -Infinity \" NaN", "NaNx": 1}""", text);
    }

    [Fact]
    public void Minus_infinity_lambda_min_clipped_means_no_clipping()
    {
        var parsed = SchedulerFactory.Create("DPMSolverMultistep", SchedulerConfig.Parse(DiffusersDpmJson));
        var plain = SchedulerFactory.Create("DPMSolverMultistep", SchedulerConfig.StableDiffusion21Base with { TimestepSpacing = "linspace" });

        parsed.SetTimesteps(25);
        plain.SetTimesteps(25);

        Assert.Equal(plain.Timesteps, parsed.Timesteps);
        Assert.Equal(999.0, parsed.Timesteps[0]);
    }

    [Fact]
    public void A_finite_lambda_min_clipped_cuts_the_top_of_the_schedule_as_diffusers_does()
    {
        // diffusers 0.27 DPMSolverMultistepScheduler(lambda_min_clipped=-2.0, timestep_spacing="linspace") on the SD 2.1
        // betas: searchsorted(flip(lambda_t), -2.0) = 123, so timesteps = linspace(0, 876, 11).round()[::-1][:-1].
        var config = SchedulerConfig.Parse(DiffusersDpmJson.Replace("-Infinity", "-2.0", StringComparison.Ordinal));
        var scheduler = SchedulerFactory.Create("DPMSolverMultistep", config);

        scheduler.SetTimesteps(10);

        Assert.Equal([876.0, 788, 701, 613, 526, 438, 350, 263, 175, 88], scheduler.Timesteps);
    }
}
