using System.Text;
using System.Threading.Channels;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>
/// Server-sent events of one prediction, as Replicate's stream sends them: <c>logs</c> per line (progress as tqdm's
/// line), <c>output</c> per output, <c>error</c> on failure, then <c>done</c>. The logs so far come first, then the live
/// events, from one atomic subscription (nothing missed or doubled).
/// </summary>
internal static class PredictionStream
{
    // Wakes the stream's reader when the server begins to stop (never sent to the client).
    private static readonly JobLog Wake = new("");

    public static async Task WriteAsync(HttpContext context, JobStore store, string id)
    {
        if (await store.FindAsync(id) is not { } job)
        {
            await Problems.NotFound($"No prediction '{id}' (it may have expired).").ExecuteAsync(context);
            return;
        }
        var events = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
        var (logsSoFar, status, subscription) = job.Subscribe(e => events.Writer.TryWrite(e));
        using (subscription)
        {
            var sse = new EventWriter(context.Response, context.RequestAborted);
            await sse.StartAsync();
            foreach (var line in logsSoFar.Select(Job.LogLine).OfType<string>())
            {
                await sse.SendAsync("logs", line);
            }
            try
            {
                if (status.IsTerminal() || await FollowAsync(context, job, events, sse))
                {
                    await SendOutcomeAsync(job, sse);
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>
    /// Sends live log lines until the job completes (true). A stopping server ends the stream cleanly once the job
    /// will not finish here (false: the client reconnects or polls after the restart) instead of holding the
    /// connection until it is reset.
    /// </summary>
    private static async Task<bool> FollowAsync(HttpContext context, Job job, Channel<JobEvent> events, EventWriter sse)
    {
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var stoppingWake = stopping.Register(() => events.Writer.TryWrite(Wake));
        _ = job.HandedBack.ContinueWith(_ => events.Writer.TryWrite(Wake), TaskScheduler.Default);
        await foreach (var e in events.Reader.ReadAllAsync(context.RequestAborted))
        {
            if (ReferenceEquals(e, Wake))
            {
                if ((stopping.IsCancellationRequested && job.Status != JobStatus.Processing) || job.HandedBack.IsCompleted)
                {
                    return false;
                }
            }
            else if (Job.LogLine(e) is { } line)
            {
                await sse.SendAsync("logs", line);
            }
            else if (e is JobCompleted)
            {
                return true;
            }
        }
        return false;
    }

    private static async Task SendOutcomeAsync(Job job, EventWriter sse)
    {
        switch (job.Status)
        {
            case JobStatus.Succeeded:
                foreach (var output in PredictionMapper.ToResponse(job).Output ?? [])
                {
                    await sse.SendAsync("output", output);
                }
                await sse.SendAsync("done", "{}");
                break;
            case JobStatus.Canceled:
                await sse.SendAsync("done", """{"reason":"canceled"}""");
                break;
            default:
                await sse.SendAsync("error", job.Error ?? "prediction failed");
                await sse.SendAsync("done", """{"reason":"error"}""");
                break;
        }
    }

    /// <summary>Writes numbered SSE events and flushes each (nginx is told not to buffer).</summary>
    private sealed class EventWriter(HttpResponse response, CancellationToken aborted)
    {
        private int _eventId;

        public Task StartAsync()
        {
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer the stream
            return response.StartAsync(aborted);
        }

        public async Task SendAsync(string name, string data)
        {
            var text = new StringBuilder();
            text.Append("event: ").Append(name).Append('\n');
            text.Append("id: ").Append(++_eventId).Append('\n');
            foreach (var line in data.Split('\n'))
            {
                text.Append("data: ").Append(line).Append('\n');
            }
            text.Append('\n');
            await response.WriteAsync(text.ToString(), aborted);
            await response.Body.FlushAsync(aborted);
        }
    }
}
