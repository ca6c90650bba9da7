using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>PNDM against diffusers' PNDMScheduler(skip_prk_steps=True) built from SD 2.1-base's scheduler_config.json
/// (numbers from reference/diffusers_reference.py unless written here).</summary>
public sealed class PndmSchedulerTests
{
    [Fact]
    public void Pndm_timesteps_for_50_steps_repeat_the_first_interval()
    {
        // DESIGN.md reference: 981, 961, 961, 941, 921, …, 21, 1 — 51 UNet calls.
        var scheduler = new PndmScheduler(SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(50);

        Assert.Equal(51, scheduler.Timesteps.Count);
        Assert.Equal([981, 961, 961, 941, 921], scheduler.Timesteps.Take(5));
        Assert.Equal([41, 21, 1], scheduler.Timesteps.TakeLast(3));
        Assert.Empty(scheduler.Sigmas);
        Assert.Equal(1.0, scheduler.InitNoiseSigma);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(50)]
    public void Pndm_matches_diffusers_for_sd21_base(int steps) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("PNDM", "SD21Base", steps));

    [Theory]
    [InlineData("VPrediction")]
    [InlineData("Linear")]
    [InlineData("Linspace")]
    [InlineData("Trailing")]
    public void Pndm_matches_diffusers_for_config_variant_with_25_steps(string config) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("PNDM", config, 25));

    [Fact]
    public void Pndm_img2img_from_step_10_matches_diffusers()
    {
        // diffusers keys PLMS warm-up to its call counter: from timestep 601 it steps 601→561 twice, then 561→521.
        ReferenceRun.AssertMatches(ReferenceRun.Find("PNDM", "SD21Base", 25, start: 10));
    }

    [Fact]
    public void Pndm_set_timesteps_resets_the_multistep_history()
    {
        var reference = ReferenceRun.Find("PNDM", "SD21Base", 25);
        var scheduler = new PndmScheduler(SchedulerConfig.StableDiffusion21Base);

        var first = ReferenceRun.Run(scheduler, reference);
        var second = ReferenceRun.Run(scheduler, reference);

        Assert.Equal(first.Final, second.Final);
    }
}
