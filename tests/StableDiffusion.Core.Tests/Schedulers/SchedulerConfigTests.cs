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
}
