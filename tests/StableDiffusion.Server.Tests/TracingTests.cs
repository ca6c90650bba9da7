using System.Collections.Concurrent;
using System.Diagnostics;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class TracingTests
{
    [Fact]
    public async Task A_job_span_parents_cores_stage_spans()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "StableDiffusion.Server" or "StableDiffusion.Core",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var done = await Wire.CreatedAsync(client, Wire.Input(steps: 2), prefer: "wait");

        var job = Assert.Single(spans, s => s.OperationName == "job" && (string?)s.GetTagItem("job.id") == done.Id());
        Assert.Equal("tiny", job.GetTagItem("model"));
        Assert.Equal("succeeded", job.GetTagItem("status"));
        var children = spans.Where(s => s.Source.Name == "StableDiffusion.Core" && s.TraceId == job.TraceId).Select(s => s.OperationName).ToArray();
        Assert.Contains("generate", children);
        Assert.Contains("denoise", children);
    }
}
