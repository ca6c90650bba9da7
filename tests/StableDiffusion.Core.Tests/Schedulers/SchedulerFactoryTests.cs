using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

public sealed class SchedulerFactoryTests
{
    [Theory]
    [InlineData("PNDM", "PNDM")]
    [InlineData("DDIM", "DDIM")]
    [InlineData("K_EULER", "K_EULER")]
    [InlineData("K_EULER_ANCESTRAL", "K_EULER_ANCESTRAL")]
    [InlineData("DPMSolverMultistep", "DPMSolverMultistep")]
    [InlineData("KarrasDPM", "KarrasDPM")]
    [InlineData("LMS", "LMS")]
    [InlineData("PNDMScheduler", "PNDM")]
    [InlineData("DDIMScheduler", "DDIM")]
    [InlineData("EulerDiscreteScheduler", "K_EULER")]
    [InlineData("EulerAncestralDiscreteScheduler", "K_EULER_ANCESTRAL")]
    [InlineData("DPMSolverMultistepScheduler", "DPMSolverMultistep")]
    [InlineData("LMSDiscreteScheduler", "LMS")]
    [InlineData("k_euler_ancestral", "K_EULER_ANCESTRAL")]
    [InlineData("dpmsolvermultistep", "DPMSolverMultistep")]
    [InlineData("karrasdpm", "KarrasDPM")]
    [InlineData("ddimscheduler", "DDIM")]
    [InlineData("HeunDiscreteScheduler", "HeunDiscrete")]
    [InlineData("KDPM2DiscreteScheduler", "K_DPM_2")]
    [InlineData("KDPM2AncestralDiscreteScheduler", "K_DPM_2_ANCESTRAL")]
    [InlineData("UniPCMultistepScheduler", "UniPCMultistep")]
    [InlineData("DEISMultistepScheduler", "DEISMultistep")]
    [InlineData("DPMSolverSinglestepScheduler", "DPMSolverSinglestep")]
    [InlineData("LCMScheduler", "LCM")]
    public void Canonicalize_maps_replicate_and_diffusers_names_case_insensitively(string name, string expected) =>
        Assert.Equal(expected, SchedulerFactory.Canonicalize(name));

    [Theory]
    [InlineData("DDPMScheduler")]
    [InlineData("EULER")]
    [InlineData("")]
    public void Canonicalize_returns_null_for_unknown_names(string name) =>
        Assert.Null(SchedulerFactory.Canonicalize(name));

    [Theory]
    [InlineData("PNDMScheduler", false, "PNDM")]
    [InlineData("DDIMScheduler", false, "DDIM")]
    [InlineData("EulerDiscreteScheduler", false, "K_EULER")]
    [InlineData("DPMSolverMultistepScheduler", false, "DPMSolverMultistep")]
    [InlineData("DPMSolverMultistepScheduler", true, "KarrasDPM")]
    [InlineData("DDPMScheduler", false, "PNDM")]
    [InlineData("UniPCMultistepScheduler", false, "UniPCMultistep")]
    [InlineData("DPMSolverMultistepScheduler-sde", false, "DPMSolverMultistepSDE")]
    [InlineData("DPMSolverMultistepScheduler-sde", true, "KarrasDPMSDE")]
    public void DefaultFor_picks_the_config_class(string className, bool karras, string expected)
    {
        // "-sde": a DPMSolverMultistepScheduler config with algorithm_type sde-dpmsolver++.
        var sde = className.EndsWith("-sde", StringComparison.Ordinal);
        var config = SchedulerConfig.StableDiffusion21Base with
        {
            ClassName = sde ? className[..^4] : className,
            UseKarrasSigmas = karras,
            AlgorithmType = sde ? "sde-dpmsolver++" : "dpmsolver++",
        };

        Assert.Equal(expected, SchedulerFactory.DefaultFor(config));
    }

    [Fact]
    public void Create_without_a_name_uses_the_config_scheduler()
    {
        var scheduler = SchedulerFactory.Create(null, SchedulerConfig.StableDiffusion21Base);

        Assert.IsType<PndmScheduler>(scheduler);
        Assert.Equal("PNDM", scheduler.Name);
    }

    [Theory]
    [InlineData("PNDM", typeof(PndmScheduler))]
    [InlineData("DDIM", typeof(DdimScheduler))]
    [InlineData("K_EULER", typeof(EulerDiscreteScheduler))]
    [InlineData("K_EULER_ANCESTRAL", typeof(EulerAncestralScheduler))]
    [InlineData("DPMSolverMultistep", typeof(DpmSolverMultistepScheduler))]
    [InlineData("KarrasDPM", typeof(DpmSolverMultistepScheduler))]
    [InlineData("LMS", typeof(LmsDiscreteScheduler))]
    [InlineData("HeunDiscrete", typeof(HeunDiscreteScheduler))]
    [InlineData("K_DPM_2", typeof(KDpm2DiscreteScheduler))]
    [InlineData("K_DPM_2_ANCESTRAL", typeof(KDpm2AncestralDiscreteScheduler))]
    [InlineData("DPMSolverMultistepSDE", typeof(DpmSolverMultistepScheduler))]
    [InlineData("KarrasDPMSDE", typeof(DpmSolverMultistepScheduler))]
    [InlineData("UniPCMultistep", typeof(UniPcMultistepScheduler))]
    [InlineData("DEISMultistep", typeof(DeisMultistepScheduler))]
    [InlineData("DPMSolverSinglestep", typeof(DpmSolverSinglestepScheduler))]
    [InlineData("LCM", typeof(LcmScheduler))]
    public void Create_builds_the_named_scheduler(string name, Type expected)
    {
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base);

        Assert.IsType(expected, scheduler);
        Assert.Equal(name, scheduler.Name);
    }

    [Fact]
    public void Create_KarrasDPM_turns_on_karras_sigmas_and_DPMSolverMultistep_turns_them_off()
    {
        var karrasConfig = SchedulerConfig.StableDiffusion21Base with { UseKarrasSigmas = true };

        Assert.True(SchedulerFactory.Create("KarrasDPM", SchedulerConfig.StableDiffusion21Base).Config.UseKarrasSigmas);
        Assert.False(SchedulerFactory.Create("DPMSolverMultistep", karrasConfig).Config.UseKarrasSigmas);
    }

    [Fact]
    public void Create_returns_a_fresh_instance_per_call()
    {
        var first = SchedulerFactory.Create("DPMSolverMultistep", SchedulerConfig.StableDiffusion21Base);
        var second = SchedulerFactory.Create("DPMSolverMultistep", SchedulerConfig.StableDiffusion21Base);

        Assert.NotSame(first, second);
    }

    [Fact]
    public void Create_with_an_unknown_name_lists_the_valid_names()
    {
        var error = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create("EULER_A", SchedulerConfig.StableDiffusion21Base));

        Assert.Contains("EULER_A", error.Message);
        Assert.All(SchedulerFactory.Names, name => Assert.Contains(name, error.Message));
    }

    [Fact]
    public void Sde_names_pick_the_sde_algorithm_and_the_ode_names_the_ode_one()
    {
        var sdeConfig = SchedulerConfig.StableDiffusion21Base with { AlgorithmType = "sde-dpmsolver++" };

        Assert.Equal("sde-dpmsolver++", SchedulerFactory.Create("DPMSolverMultistepSDE", SchedulerConfig.StableDiffusion21Base).Config.AlgorithmType);
        Assert.Equal("dpmsolver++", SchedulerFactory.Create("DPMSolverMultistep", sdeConfig).Config.AlgorithmType);
    }

    [Fact]
    public void Beta_sigmas_are_refused_by_name()
    {
        var config = SchedulerConfig.StableDiffusion21Base with { UseBetaSigmas = true };

        var error = Assert.Throws<NotSupportedException>(() => SchedulerFactory.Create("K_EULER", config));

        Assert.Contains("use_beta_sigmas", error.Message);
    }

    [Theory]
    [InlineData("K_EULER", "karras", "K_EULER", true, false)]
    [InlineData("K_DPM_2_ANCESTRAL", "exponential", "K_DPM_2_ANCESTRAL", false, true)]
    [InlineData("DPMSolverMultistep", "karras", "KarrasDPM", true, false)]
    [InlineData("KarrasDPMSDE", "exponential", "DPMSolverMultistepSDE", false, true)]
    public void A_sigma_schedule_sets_the_diffusers_flag(string name, string schedule, string expectedName, bool karras, bool exponential)
    {
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base, sigmaSchedule: schedule);

        Assert.Equal(expectedName, scheduler.Name);
        Assert.Equal(karras, scheduler.Config.UseKarrasSigmas);
        Assert.Equal(exponential, scheduler.Config.UseExponentialSigmas);
    }

    [Theory]
    [InlineData("PNDM", "karras")]
    [InlineData("DDIM", "exponential")]
    [InlineData("LCM", "sgm_uniform")]
    [InlineData("K_EULER", "karras_exponential")]
    public void A_sigma_schedule_the_scheduler_lacks_is_refused(string name, string schedule) =>
        Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base, sigmaSchedule: schedule));
}
