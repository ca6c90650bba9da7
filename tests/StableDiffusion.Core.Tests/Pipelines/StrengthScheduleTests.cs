using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class StrengthScheduleTests
{
    // diffusers' get_timesteps on the SD 2.1-base scheduler config at 10 steps:
    //   PNDM timesteps  = [901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1]  (11 calls, the first interval twice)
    //   DDIM/Euler      = [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]
    //   t_start = 10 − min(int(10·strength), 10); timesteps[t_start:] (order 1).
    [Theory]
    [InlineData("PNDM", 1.0, 11, 901)]
    [InlineData("PNDM", 0.8, 9, 801)]
    [InlineData("PNDM", 0.5, 6, 501)]
    [InlineData("DDIM", 1.0, 10, 901)]
    [InlineData("DDIM", 0.8, 8, 701)]
    [InlineData("DDIM", 0.5, 5, 401)]
    [InlineData("DDIM", 0.3, 3, 201)]   // int(10 · 0.3) = int(3.0000000000000004) = 3
    [InlineData("DDIM", 0.29, 2, 101)]  // int(2.9) = 2
    [InlineData("K_EULER", 1.0, 10, 901)]
    [InlineData("K_EULER", 0.8, 8, 701)]
    [InlineData("K_EULER", 0.5, 5, 401)]
    public void Strength_selects_diffusers_first_timestep_and_call_count(string name, double strength, int calls, double firstTimestep)
    {
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(10);

        int start = StrengthSchedule.StartIndex(10, strength, scheduler.Timesteps.Count);

        Assert.Equal(calls, scheduler.Timesteps.Count - start);
        Assert.Equal(firstTimestep, scheduler.Timesteps[start]);
    }

    [Theory]
    [InlineData("PNDM")]
    [InlineData("DDIM")]
    [InlineData("K_EULER")]
    public void Strength_zero_runs_no_model_call(string name)
    {
        // Documented divergence: diffusers' PNDM would still run timesteps[10:] = [1].
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(10);

        Assert.Equal(scheduler.Timesteps.Count, StrengthSchedule.StartIndex(10, 0.0, scheduler.Timesteps.Count));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void Strength_outside_0_1_is_refused(double strength) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StrengthSchedule.StartIndex(10, strength, 10));
}
