using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Telemetry;

namespace StableDiffusion.Server.Worker;

/// <summary>
/// Runs what <see cref="BatchGatherer"/> took: the compatible jobs as one <see cref="StableDiffusionPipeline.GenerateBatch"/>
/// call, the others alone. Each job keeps its whole lifecycle in <see cref="JobRunner"/> (start, logs, progress,
/// outputs, status, retry or hand-back); only the generation itself is shared. A job canceled mid-batch leaves it and
/// the others go on.
/// </summary>
internal sealed class BatchRunner(JobRunner runner, ServerMetrics metrics, ILogger<BatchRunner> logger)
{
    public async Task RunAsync(GatheredJobs gathered, DevicePipelines pipelines, CancellationToken stoppingToken)
    {
        if (gathered.Together.Count == 1)
        {
            await runner.RunAsync(gathered.Together[0], pipelines, stoppingToken);
        }
        else
        {
            // Started together, before the batch is built: each job counts its own queue wait and start event.
            var started = new List<Job>();
            foreach (var job in gathered.Together)
            {
                if (runner.TryStart(job, pipelines.Device))
                {
                    started.Add(job);
                }
                else
                {
                    await runner.EndClaimAsync(job);
                }
            }
            var batch = new SharedGeneration(runner.AloneAsync, RunBatchAsync);
            // Each run reaches its generation step synchronously and joins the batch; Close then starts it.
            var runs = started.Select(job => runner.RunStartedAsync(job, pipelines, stoppingToken, batch.Join)).ToArray();
            batch.Close();
            await Task.WhenAll(runs);
        }

        foreach (var job in gathered.Apart)
        {
            await runner.RunAsync(job, pipelines, stoppingToken);
        }
    }

    /// <summary>Runs the joined jobs as one batch and hands each its own outcome.</summary>
    private async Task RunBatchAsync(StableDiffusionPipeline pipeline, List<Member> members)
    {
        int images = members.Sum(m => m.Settings.NumOutputs);
        string model = members[0].Job.Model.Name;
        metrics.Batch(members.Count, images);
        foreach (var member in members)
        {
            member.Job.AppendLog($"Batched with {members.Count - 1} other job(s): {images} images per UNet call");
        }
        logger.LogInformation("Running {Jobs} jobs ({Images} images) as one batch: {JobIds}", members.Count, images,
            string.Join(", ", members.Select(m => m.Job.Id)));

        var onnxBefore = pipeline.Components.Select(c => c.RunSeconds).ToArray();
        var jobs = members.Select(m => new BatchJob(m.Settings, m.Observer, m.Job.Cancellation)).ToArray();
        IReadOnlyList<BatchOutcome> outcomes;
        try
        {
            outcomes = await Task.Run(() => pipeline.GenerateBatch(jobs, n => metrics.UNetCalls(model, 1, n)), CancellationToken.None);
        }
        catch (Exception e)
        {
            outcomes = members.Select(_ => new BatchOutcome(null, e)).ToArray();
        }
        for (var i = 0; i < onnxBefore.Length; i++)
        {
            // Each job is charged its share of the batch's session time.
            var share = (pipeline.Components[i].RunSeconds - onnxBefore[i]) / members.Count;
            foreach (var member in members)
            {
                metrics.SessionTime(model, pipeline.Components[i].Name, share);
            }
        }
        for (var m = 0; m < members.Count; m++)
        {
            if (outcomes[m].Result is { } result)
            {
                members[m].Outcome.SetResult(result);
            }
            else
            {
                members[m].Outcome.SetException(outcomes[m].Error!);
            }
        }
    }

    private sealed record Member(Job Job, GenerationSettings Settings, GenerationObserver Observer)
    {
        public TaskCompletionSource<DecodedGeneration> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Collects the jobs' generation steps until <see cref="Close"/>; one that comes later runs alone.</summary>
    private sealed class SharedGeneration(JobGeneration alone, Func<StableDiffusionPipeline, List<Member>, Task> run)
    {
        private readonly List<Member> _members = [];
        private StableDiffusionPipeline? _pipeline;
        private bool _closed;

        public Task<DecodedGeneration> Join(Job job, StableDiffusionPipeline pipeline, GenerationSettings settings, GenerationObserver observer)
        {
            if (_closed)
            {
                return alone(job, pipeline, settings, observer);
            }
            var member = new Member(job, settings, observer);
            _pipeline = pipeline;
            _members.Add(member);
            return member.Outcome.Task;
        }

        public void Close()
        {
            _closed = true;
            if (_members.Count > 0)
            {
                _ = run(_pipeline!, _members);
            }
        }
    }
}
