using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>A1111's schedule types against its own functions (modules/sd_schedulers.py, k-diffusion's DiscreteSchedule
/// t_to_sigma/sigma_to_t) run in torch 1.13 float32 over the SD 1.x/2.x-base training sigmas, n = 6.</summary>
public sealed class ScheduleTypesTests
{
    private static readonly float[] Train = new NoiseSchedule(SchedulerConfig.StableDiffusion21Base).Sigmas;

    [Theory]
    [InlineData("uniform", new[] { 14.614643096923828, 5.092409610748291, 2.279731273651123, 1.1628650426864624, 0.5711894035339355, 0.0291675366461277 })]
    [InlineData("normal", new[] { 14.614643096923828, 5.092409610748291, 2.279731273651123, 1.1628650426864624, 0.5711894035339355, 0.0291675366461277 })]
    [InlineData("sgm_uniform", new[] { 14.614643096923828, 5.9489006996154785, 2.9183082580566406, 1.6155810356140137, 0.9323583245277405, 0.49355217814445496 })]
    [InlineData("kl_optimal", new[] { 14.614632606506348, 3.080702543258667, 1.5970662832260132, 0.961588442325592, 0.5729145407676697, 0.28183817863464355 })]
    [InlineData("align_your_steps", new[] { 14.615, 3.861, 1.886, 0.963, 0.399, 0.029 })]
    [InlineData("simple", new[] { 14.614645004272461, 5.963131904602051, 2.9183082580566406, 1.6128870248794556, 0.9323583245277405, 0.49240967631340027 })]
    // A1111 gets 7 stride points for n = 6 (1000 // 6 = 166) and runs 7 steps; the 6 highest are kept.
    [InlineData("ddim", new[] { 14.438572883605957, 5.9064507484436035, 2.9071223735809326, 1.6128870248794556, 0.9323583245277405, 0.49469733238220215 })]
    public void Ramp_matches_a1111_for_six_steps(string type, double[] expected)
    {
        var sigmas = ScheduleTypes.Sigmas(type, Train, 6);

        Assert.Equal(expected.Length, sigmas.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], sigmas[i], expected[i] * 2e-5);
        }
    }

    [Fact]
    public void Align_your_steps_keeps_the_published_sigmas_at_eleven_steps()
    {
        var sigmas = ScheduleTypes.Sigmas("align_your_steps", Train, 11);

        Assert.Equal([14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029], sigmas);
    }

    [Fact]
    public void Beta_ramp_is_symmetric_about_the_middle_of_the_range()
    {
        // Beta(0.6, 0.6) is symmetric: its median is 0.5, so n = 3 gives σ_max, the midpoint, σ_min.
        var sigmas = ScheduleTypes.Sigmas("beta", Train, 3);

        Assert.Equal(Train[^1], sigmas[0], 1e-6);
        Assert.Equal((Train[0] + Train[^1]) / 2.0, sigmas[1], 1e-6);
        Assert.Equal(Train[0], sigmas[2], 1e-6);
    }

    [Fact]
    public void Polyexponential_at_a1111_default_rho_is_the_exponential_ramp() =>
        Assert.Equal(ScheduleTypes.Sigmas("exponential", Train, 7), ScheduleTypes.Sigmas("polyexponential", Train, 7));

    [Theory]
    [InlineData("SGM Uniform", "sgm_uniform")]
    [InlineData("SGMUniform", "sgm_uniform")]
    [InlineData("normal", "normal")]
    [InlineData("Align Your Steps", "align_your_steps")]
    [InlineData("karras_exponential", null)]
    public void Names_labels_and_aliases_are_found(string given, string? expected) => Assert.Equal(expected, ScheduleTypes.Find(given));

    [Fact]
    public void Euler_ancestral_runs_a1111_karras_over_the_full_training_range()
    {
        var scheduler = SchedulerFactory.Create("K_EULER_ANCESTRAL", SchedulerConfig.StableDiffusion21Base, sigmaSchedule: "Karras");
        scheduler.SetTimesteps(5);

        Assert.Equal("karras", scheduler.Config.ScheduleType);
        Assert.Equal(SigmaInterpolation.Karras(Train[0], Train[^1], 5).Select(s => (double)(float)s).Append(0), scheduler.Sigmas);
    }

    [Theory]
    [InlineData("K_EULER")]
    [InlineData("LMS")]
    [InlineData("HeunDiscrete")]
    [InlineData("DPMSolverMultistep")]
    [InlineData("UniPCMultistep")]
    [InlineData("DEISMultistep")]
    public void A_schedule_type_sets_the_first_sigma_of_every_sigma_scheduler(string name)
    {
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base, sigmaSchedule: "sgm_uniform");
        scheduler.SetTimesteps(6);

        Assert.Equal(5.9489006996154785, scheduler.Sigmas[1], 1e-4);
    }
}
