using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>K_EULER against diffusers' EulerDiscreteScheduler built with from_config on SD 2.1-base's
/// scheduler_config.json (whose missing timestep_spacing means PNDM's "leading"), or the named variant; numbers from
/// reference/diffusers_reference.py unless written here.</summary>
public sealed class EulerDiscreteSchedulerTests
{
    [Fact]
    public void Euler_leading_timesteps_for_50_steps_are_981_down_to_1()
    {
        var scheduler = new EulerDiscreteScheduler(SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(50);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => 981.0 - 20 * i), scheduler.Timesteps);

        // σ(981) and, for "leading", init_noise_sigma = √(σ₀² + 1).
        Assert.Equal(13.120415687561035, scheduler.Sigmas[0], 1e-6);
        Assert.Equal(13.158469200134277, scheduler.InitNoiseSigma, 1e-6);
        Assert.Equal(0.0, scheduler.Sigmas[^1]);
    }

    [Fact]
    public void Euler_first_sigma_is_sigma_max_with_linspace_spacing()
    {
        // DESIGN.md's σ₀ = 14.6146 is σ at t = 999, the first timestep of "linspace" (diffusers' own Euler default);
        // there init_noise_sigma is σ₀ itself.
        var scheduler = new EulerDiscreteScheduler(ReferenceRun.Config("Linspace"));
        scheduler.SetTimesteps(50);

        Assert.Equal(999.0, scheduler.Timesteps[0]);
        Assert.Equal(978.6122436523438, scheduler.Timesteps[1], 1e-9);
        Assert.Equal(14.6146, scheduler.Sigmas[0], 1e-4);
        Assert.Equal(14.6146, scheduler.InitNoiseSigma, 1e-4);
    }

    [Fact]
    public void Euler_init_noise_sigma_before_set_timesteps_is_sqrt_of_sigma_max_squared_plus_one()
    {
        // DESIGN.md's 14.6488 = √(14.6146² + 1): diffusers' value for "leading" before set_timesteps runs.
        var scheduler = new EulerDiscreteScheduler(SchedulerConfig.StableDiffusion21Base);

        Assert.Equal(14.6488, scheduler.InitNoiseSigma, 1e-4);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(50)]
    public void Euler_matches_diffusers_for_sd21_base(int steps) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("K_EULER", "SD21Base", steps));

    [Theory]
    [InlineData("VPrediction")]
    [InlineData("Linear")]
    [InlineData("Linspace")]
    [InlineData("Trailing")]
    public void Euler_matches_diffusers_for_config_variant_with_25_steps(string config) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("K_EULER", config, 25));

    [Fact]
    public void Euler_scale_model_input_divides_by_sqrt_of_sigma_squared_plus_one()
    {
        var scheduler = new EulerDiscreteScheduler(SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(25);
        float[] sample = [1f, -2f, 0.5f];
        var scaled = new float[3];

        scheduler.ScaleModelInput(sample, scaled, 3);

        var divisor = Math.Sqrt(scheduler.Sigmas[3] * scheduler.Sigmas[3] + 1);
        Assert.Equal(-2 / divisor, scaled[1], 1e-6);
    }

    [Fact]
    public void Euler_add_noise_adds_sigma_times_noise()
    {
        var scheduler = new EulerDiscreteScheduler(SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(25);
        var destination = new float[2];

        scheduler.AddNoise([1f, 2f], [0.5f, -1f], 10, destination);

        Assert.Equal(1 + 0.5 * scheduler.Sigmas[10], destination[0], 1e-6);
        Assert.Equal(2 - scheduler.Sigmas[10], destination[1], 1e-6);
    }

    [Fact]
    public void Euler_img2img_from_step_10_matches_diffusers() =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("K_EULER", "SD21Base", 25, start: 10));
}
