using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

public sealed class StepCountLimitTests
{
    [Theory]
    [InlineData("PNDM")]
    [InlineData("DDIM")]
    [InlineData("K_EULER")]
    [InlineData("K_EULER_ANCESTRAL")]
    [InlineData("DPMSolverMultistep")]
    [InlineData("KarrasDPM")]
    [InlineData("LMS")]
    [InlineData("HeunDiscrete")]
    [InlineData("K_DPM_2")]
    [InlineData("K_DPM_2_ANCESTRAL")]
    [InlineData("DPMSolverMultistepSDE")]
    [InlineData("KarrasDPMSDE")]
    [InlineData("UniPCMultistep")]
    [InlineData("LCM")]
    [InlineData("DEISMultistep")]
    [InlineData("DPMSolverSinglestep")]
    public void The_most_steps_allowed_stay_inside_the_schedule(string name)
    {
        Check(name, name switch
        {
            "DPMSolverMultistep" or "KarrasDPM" or "DPMSolverMultistepSDE" or "KarrasDPMSDE" or "UniPCMultistep" or "DEISMultistep" or "DPMSolverSinglestep" => 998,
            "LCM" => 50, // original_inference_steps
            _ => 999,
        });
    }

    [Fact]
    public void Lcm_refuses_more_steps_than_its_original_schedule()
    {
        var scheduler = SchedulerFactory.Create("LCM", SchedulerConfig.StableDiffusion21Base);

        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(51));
    }

    private static void Check(string name, int steps)
    {
        // SD 2.1-base, leading spacing, steps_offset 1: 999 steps run timesteps 999 … 1 (PNDM's warm-up step peeks one
        // ratio ahead and must stay at 999).
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(steps);
        var sample = new float[8];
        var output = new float[8];
        Array.Fill(sample, 0.5f);
        Array.Fill(output, 0.1f);

        for (int i = 0; i < scheduler.Timesteps.Count; i++)
        {
            scheduler.Step(output, i, sample, d => d.Fill(0.2f));
        }

        Assert.InRange(scheduler.Timesteps.Max(), 0, 999);
        Assert.All(sample, v => Assert.True(float.IsFinite(v), $"{name} at {steps} steps: {v}"));
    }

    [Theory]
    [InlineData("PNDM")]
    [InlineData("K_EULER")]
    [InlineData("DPMSolverMultistep")]
    public void As_many_steps_as_training_timesteps_are_refused(string name)
    {
        // At 1000 steps with steps_offset 1, two steps share a timestep (diffusers: IndexError or NaN).
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(1000));

        Assert.Contains("between 1 and 99", error.Message, StringComparison.Ordinal);
    }
}
