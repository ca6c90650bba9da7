using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>DDIM against diffusers' DDIMScheduler built with from_config on SD 2.1-base's scheduler_config.json (or the
/// named one-field variant); numbers from reference/diffusers_reference.py unless written here.</summary>
public sealed class DdimSchedulerTests
{
    [Fact]
    public void Ddim_leading_timesteps_for_50_steps_are_981_down_to_1()
    {
        // DESIGN.md reference: "leading" with steps_offset 1 gives 981, 961, …, 1.
        var scheduler = new DdimScheduler(SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(50);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => 981.0 - 20 * i), scheduler.Timesteps);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(50)]
    public void Ddim_matches_diffusers_for_sd21_base(int steps) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("DDIM", "SD21Base", steps));

    [Theory]
    [InlineData("VPrediction")]
    [InlineData("Linear")]
    [InlineData("Linspace")]
    [InlineData("Trailing")]
    [InlineData("ClipSample")]
    public void Ddim_matches_diffusers_for_config_variant_with_25_steps(string config) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("DDIM", config, 25));

    [Fact]
    public void Ddim_linspace_and_trailing_timesteps_match_diffusers()
    {
        var linspace = new DdimScheduler(ReferenceRun.Config("Linspace"));
        var trailing = new DdimScheduler(ReferenceRun.Config("Trailing"));
        linspace.SetTimesteps(25);
        trailing.SetTimesteps(25);

        // np.linspace(0, 999, 25).round()[::-1] and np.round(np.arange(1000, 0, -40)) - 1.
        Assert.Equal([999, 957, 916], linspace.Timesteps.Take(3));
        Assert.Equal(0, linspace.Timesteps[^1]);
        Assert.Equal([999, 959, 919], trailing.Timesteps.Take(3));
        Assert.Equal(39, trailing.Timesteps[^1]);
    }

    [Fact]
    public void Ddim_with_eta_matches_diffusers_given_the_same_variance_noise() =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("DDIM", "SD21Base", 25, eta: 0.7));

    [Fact]
    public void Ddim_with_eta_is_deterministic_for_a_fixed_noise_source()
    {
        var reference = ReferenceRun.Find("DDIM", "SD21Base", 25, eta: 0.7);

        var first = ReferenceRun.Run(new DdimScheduler(SchedulerConfig.StableDiffusion21Base, 0.7), reference);
        var second = ReferenceRun.Run(new DdimScheduler(SchedulerConfig.StableDiffusion21Base, 0.7), reference);
        var deterministic = ReferenceRun.Run(new DdimScheduler(SchedulerConfig.StableDiffusion21Base), reference);

        Assert.Equal(first.Final, second.Final);
        Assert.NotEqual(first.Final, deterministic.Final);
    }

    [Fact]
    public void Ddim_with_eta_requires_a_noise_source()
    {
        var scheduler = new DdimScheduler(SchedulerConfig.StableDiffusion21Base, eta: 0.5);
        scheduler.SetTimesteps(10);
        var sample = ReferenceRun.InitialSample();

        Assert.Throws<ArgumentNullException>(() => scheduler.Step(ReferenceRun.ModelOutput(0), 0, sample, null));
    }

    [Fact]
    public void Ddim_img2img_from_step_10_matches_diffusers() =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("DDIM", "SD21Base", 25, start: 10));
}
