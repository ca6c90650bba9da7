using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>The denoising loop is the hot path: after the first step has sized the history buffers, steps allocate nothing.</summary>
public sealed class SchedulerAllocationTests
{
    [Theory]
    [InlineData("PNDM")]
    [InlineData("DDIM")]
    [InlineData("K_EULER")]
    [InlineData("K_EULER_ANCESTRAL")]
    [InlineData("DPMSolverMultistep")]
    [InlineData("KarrasDPM")]
    [InlineData("LMS")]
    public void Steps_after_the_first_do_not_allocate(string name)
    {
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.StableDiffusion21Base);
        scheduler.SetTimesteps(25);
        var sample = new float[4 * 64 * 64];
        var scaled = new float[sample.Length];
        var modelOutput = new float[sample.Length];
        NoiseFill noise = destination => destination.Fill(0.1f);
        modelOutput.AsSpan().Fill(0.2f);
        scheduler.ScaleModelInput(sample, scaled, 0);
        scheduler.Step(modelOutput, 0, sample, noise);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i < scheduler.Timesteps.Count; i++)
        {
            scheduler.ScaleModelInput(sample, scaled, i);
            scheduler.Step(modelOutput, i, sample, noise);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
