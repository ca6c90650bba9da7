using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>DPMSolverMultistep and KarrasDPM against diffusers' DPMSolverMultistepScheduler (dpmsolver++, order 2,
/// midpoint, lower_order_final, final_sigmas_type "zero"; KarrasDPM adds use_karras_sigmas=True) built with from_config
/// on SD 2.1-base's scheduler_config.json or the named variant; numbers from reference/diffusers_reference.py unless
/// written here.</summary>
public sealed class DpmSolverMultistepSchedulerTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(50)]
    public void DpmSolver_matches_diffusers_for_sd21_base(int steps) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("DPMSolverMultistep", "SD21Base", steps));

    [Theory]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(50)]
    public void KarrasDpm_matches_diffusers_for_sd21_base(int steps) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("KarrasDPM", "SD21Base", steps));

    [Theory]
    [InlineData("VPrediction")]
    [InlineData("Linear")]
    [InlineData("Linspace")]
    [InlineData("Trailing")]
    public void DpmSolver_matches_diffusers_for_config_variant_with_25_steps(string config) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("DPMSolverMultistep", config, 25));

    [Fact]
    public void KarrasDpm_with_linear_betas_matches_diffusers() =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("KarrasDPM", "Linear", 25));

    [Fact]
    public void DpmSolver_leading_timesteps_divide_by_steps_plus_one()
    {
        // diffusers: step_ratio = 1000 // (25 + 1) = 38, the final 0 dropped, steps_offset 1 added.
        var scheduler = SchedulerFactory.Create("DPMSolverMultistep", SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(25);

        Assert.Equal([951, 913, 875], scheduler.Timesteps.Take(3));
        Assert.Equal(39, scheduler.Timesteps[^1]);
        Assert.Equal(1.0, scheduler.InitNoiseSigma);
    }

    [Fact]
    public void KarrasDpm_sigmas_run_from_sigma_max_to_sigma_min_then_zero()
    {
        var scheduler = SchedulerFactory.Create("KarrasDPM", SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(25);

        // σ_max = σ(999) and σ_min = σ(0) = √(0.00085 / 0.99915) of SD's scaled_linear schedule.
        Assert.Equal(26, scheduler.Sigmas.Count);
        Assert.Equal(14.6146, scheduler.Sigmas[0], 1e-4);
        Assert.Equal(0.0291675, scheduler.Sigmas[24], 1e-6);
        Assert.Equal(0.0, scheduler.Sigmas[25]);
        for (var i = 1; i < scheduler.Sigmas.Count; i++)
        {
            Assert.True(scheduler.Sigmas[i] < scheduler.Sigmas[i - 1], $"sigma {i} does not decrease");
        }
    }

    [Fact]
    public void KarrasDpm_timesteps_are_sigma_to_t_rounded_to_integers()
    {
        var scheduler = SchedulerFactory.Create("KarrasDPM", SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(25);

        Assert.Equal([999, 970, 938], scheduler.Timesteps.Take(3));
        Assert.Equal([4, 1, 0], scheduler.Timesteps.TakeLast(3));
        Assert.All(scheduler.Timesteps, t => Assert.Equal(Math.Round(t), t));
    }

    [Theory]
    [InlineData("DPMSolverMultistep")]
    [InlineData("KarrasDPM")]
    public void DpmSolver_img2img_from_step_10_matches_diffusers(string name) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find(name, "SD21Base", 25, start: 10));

    [Fact]
    public void DpmSolver_set_timesteps_resets_the_multistep_history()
    {
        var reference = ReferenceRun.Find("DPMSolverMultistep", "SD21Base", 25);
        var scheduler = ReferenceRun.Create(reference);

        var first = ReferenceRun.Run(scheduler, reference);
        var second = ReferenceRun.Run(scheduler, reference);

        Assert.Equal(first.Final, second.Final);
    }

    [Fact]
    public void DpmSolver_rejects_a_solver_order_it_does_not_implement()
    {
        var config = SchedulerConfig.StableDiffusion21Base with { SolverOrder = 3 };

        Assert.Throws<NotSupportedException>(() => new DpmSolverMultistepScheduler(config));
    }
}
