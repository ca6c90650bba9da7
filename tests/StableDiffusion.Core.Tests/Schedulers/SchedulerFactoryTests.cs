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
    public void Canonicalize_maps_replicate_and_diffusers_names_case_insensitively(string name, string expected) =>
        Assert.Equal(expected, SchedulerFactory.Canonicalize(name));

    [Theory]
    [InlineData("UniPCMultistepScheduler")]
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
    [InlineData("UniPCMultistepScheduler", false, "PNDM")]
    public void DefaultFor_picks_the_config_class(string className, bool karras, string expected)
    {
        var config = SchedulerConfig.StableDiffusion21Base with { ClassName = className, UseKarrasSigmas = karras };

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
}
