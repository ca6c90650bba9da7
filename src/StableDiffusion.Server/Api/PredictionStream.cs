using System.Text;
using System.Threading.Channels;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Api;

/// <summary>
/// Server-sent events of one prediction, as Replicate's stream sends them: <c>logs</c> per line, <c>output</c> per
/// output, <c>error</c> on failure, then <c>done</c>.
/// </summary>
public static class PredictionStream
{
    public static async Task WriteAsync(HttpContext context, JobStore store, string id)
    {
        if (store.Find(id) is not { } job)
        {
            await Problems.NotFound($"No prediction '{id}' (it may have expired).").ExecuteAsync(context);
            return;
        }
        var aborted = context.RequestAborted;
        var events = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
        var (logsSoFar, status, subscription) = job.Subscribe(e => events.Writer.TryWrite(e));
        using (subscription)
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer the stream
            var eventId = 0;
            async Task Send(string name, string data)
            {
                var text = new StringBuilder();
                text.Append("event: ").Append(name).Append('\n');
                text.Append("id: ").Append(++eventId).Append('\n');
                foreach (var line in data.Split('\n'))
                {
                    text.Append("data: ").Append(line).Append('\n');
                }
                text.Append('\n');
                await response.WriteAsync(text.ToString(), aborted);
                await response.Body.FlushAsync(aborted);
            }

            await response.StartAsync(aborted);
            foreach (var line in logsSoFar.Select(Job.LogLine).OfType<string>())
            {
                await Send("logs", line);
            }
            try
            {
                if (!status.IsTerminal())
                {
                    await foreach (var e in events.Reader.ReadAllAsync(aborted))
                    {
                        if (Job.LogLine(e) is { } line)
                        {
                            await Send("logs", line);
                        }
                        else if (e is JobCompleted)
                        {
                            break;
                        }
                    }
                }
                var final = PredictionMapper.ToResponse(job);
                switch (job.Status)
                {
                    case JobStatus.Succeeded:
                        foreach (var output in final.Output ?? [])
                        {
                            await Send("output", output);
                        }
                        await Send("done", "{}");
                        break;
                    case JobStatus.Canceled:
                        await Send("done", """{"reason":"canceled"}""");
                        break;
                    default:
                        await Send("error", job.Error ?? "prediction failed");
                        await Send("done", """{"reason":"error"}""");
                        break;
                }
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
            }
        }
    }
}
