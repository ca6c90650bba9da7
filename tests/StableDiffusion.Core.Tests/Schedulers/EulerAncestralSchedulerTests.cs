using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>K_EULER_ANCESTRAL against diffusers' EulerAncestralDiscreteScheduler built with from_config on SD 2.1-base's
/// scheduler_config.json (or the named variant), with the step noise taken from the same deterministic source;
/// numbers from reference/diffusers_reference.py.</summary>
public sealed class EulerAncestralSchedulerTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(50)]
    public void Euler_ancestral_matches_diffusers_for_sd21_base(int steps) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("K_EULER_ANCESTRAL", "SD21Base", steps));

    [Theory]
    [InlineData("VPrediction")]
    [InlineData("Linear")]
    public void Euler_ancestral_matches_diffusers_for_config_variant_with_25_steps(string config) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("K_EULER_ANCESTRAL", config, 25));

    [Fact]
    public void Euler_ancestral_img2img_from_step_10_matches_diffusers() =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("K_EULER_ANCESTRAL", "SD21Base", 25, start: 10));

    [Fact]
    public void Euler_ancestral_is_deterministic_for_a_fixed_noise_source()
    {
        var reference = ReferenceRun.Find("K_EULER_ANCESTRAL", "SD21Base", 25);

        var first = ReferenceRun.Run(new EulerAncestralScheduler(SchedulerConfig.StableDiffusion21Base), reference);
        var second = ReferenceRun.Run(new EulerAncestralScheduler(SchedulerConfig.StableDiffusion21Base), reference);

        Assert.Equal(first.Final, second.Final);
    }

    [Fact]
    public void Euler_ancestral_requires_a_noise_source()
    {
        var scheduler = new EulerAncestralScheduler(SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(10);
        var sample = ReferenceRun.InitialSample();

        Assert.Throws<ArgumentNullException>(() => scheduler.Step(ReferenceRun.ModelOutput(0), 0, sample, null));
    }
}
