using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;

using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;

using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Webhooks;

/// <summary>
/// Delivers a job's events to its webhook as Replicate does: the prediction JSON, POSTed on the filtered events
/// (<c>start</c>, <c>output</c>, <c>logs</c> throttled, <c>completed</c>), in order, retried with exponential backoff.
/// </summary>
internal sealed class WebhookSender(
    IHttpClientFactory clients,
    WebhookSigner signer,
    IOptionsMonitor<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookSender> logger) : IJobListener
{
    public const string ClientName = "webhooks";

    public static readonly IReadOnlyList<string> EventNames = ["start", "output", "logs", "completed"];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<DeliveryChain, byte> _chains = new();

    /// <summary>
    /// Waits until every delivery queued so far has been made (or has given up), at most until
    /// <paramref name="cancellationToken"/>: shutdown delivers the webhooks of the transitions it caused before exit.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        var pending = _chains.Keys.Select(c => c.Tail).ToArray();
        if (pending.Length > 0)
        {
            logger.LogInformation("Delivering {Count} pending webhook chains before exit", pending.Length);
            await Task.WhenAll(pending).WaitAsync(cancellationToken);
        }
    }

    /// <summary>Subscribes to a job with a webhook; deliveries run one after another on a per-job chain.</summary>
    public void OnCreated(Job job)
    {
        if (job.Webhook is null)
        {
            return;
        }
        var chain = new DeliveryChain();
        _chains[chain] = 0;
        job.Subscribe(e =>
        {
            if (job.ApplyingRemote)
            {
                // Sent by the process that owns the transition (the worker running the job).
                if (e is JobCompleted)
                {
                    _ = chain.Tail.ContinueWith(_ => _chains.TryRemove(chain, out byte _), TaskScheduler.Default);
                }
                return;
            }
            Deliver(job, chain, e);
            if (e is JobCompleted)
            {
                // The chain leaves the drain list once its last delivery is done.
                _ = chain.Tail.ContinueWith(_ => _chains.TryRemove(chain, out byte _), TaskScheduler.Default);
            }
        });
    }

    private void Deliver(Job job, DeliveryChain chain, JobEvent e)
    {
        var name = e switch
        {
            JobStarted => "start",
            JobOutput => "output",
            JobLog or JobProgress => "logs",
            JobCompleted => "completed",
            _ => null, // a re-queue is not one of Replicate's webhook events
        };
        if (name is null || !job.WebhookEvents.Contains(name))
        {
            return;
        }
        var now = time.GetUtcNow();
        if (name == "logs")
        {
            // Replicate sends at most one logs webhook per 500 ms; the completed one carries the full logs anyway.
            if (now - chain.LastLogs < TimeSpan.FromMilliseconds(options.CurrentValue.LogsThrottleMilliseconds))
            {
                return;
            }
            chain.LastLogs = now;
        }
        // Snapshot now, so each delivery shows the prediction as it was at its event.
        var body = JsonSerializer.SerializeToUtf8Bytes(PredictionMapper.ToResponse(job));
        chain.Enqueue(() => DeliverAsync(job, name, body));
    }

    private async Task DeliverAsync(Job job, string eventName, byte[] body)
    {
        var o = options.CurrentValue;
        var delay = TimeSpan.FromMilliseconds(o.InitialBackoffMilliseconds);
        var client = clients.CreateClient(ClientName);
        // One message id for every attempt, so receivers can drop duplicates (Standard Webhooks).
        var messageId = "msg_" + Jobs.Ids.New();
        client.Timeout = TimeSpan.FromSeconds(o.TimeoutSeconds);
        for (var attempt = 1; attempt <= o.MaxAttempts; attempt++)
        {
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, job.Webhook) { Content = content };
                request.Headers.TryAddWithoutValidation("User-Agent", "StableDiffusion.Server-webhook");
                signer.Sign(request, messageId, time.GetUtcNow(), body);
                using var response = await client.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    logger.LogInformation("Webhook {Event} for job {JobId} delivered (attempt {Attempt})", eventName, job.Id, attempt);
                    return;
                }
                var retryable = response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
                    || (int)response.StatusCode >= 500;
                logger.LogWarning("Webhook {Event} for job {JobId} answered {Status} (attempt {Attempt})", eventName, job.Id,
                    (int)response.StatusCode, attempt);
                if (!retryable)
                {
                    return;
                }
            }
            catch (HttpRequestException e) when (e.InnerException is WebhookTargetRefusedException refused)
            {
                logger.LogWarning("Webhook {Event} for job {JobId} refused: {Reason}", eventName, job.Id, refused.Message);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                logger.LogWarning("Webhook {Event} for job {JobId} failed (attempt {Attempt}): {Error}", eventName, job.Id, attempt, e.Message);
            }
            if (attempt < o.MaxAttempts)
            {
                await Task.Delay(delay, time);
                delay *= 2;
            }
        }
        logger.LogError("Webhook {Event} for job {JobId} gave up after {Attempts} attempts", eventName, job.Id, o.MaxAttempts);
    }

    /// <summary>Runs deliveries of one job strictly in order.</summary>
    private sealed class DeliveryChain
    {
        private readonly Lock _lock = new();
        private Task _tail = Task.CompletedTask;

        public DateTimeOffset LastLogs { get; set; } = DateTimeOffset.MinValue;

        public Task Tail
        {
            get { lock (_lock) { return _tail; } }
        }

        public void Enqueue(Func<Task> delivery)
        {
            lock (_lock)
            {
                _tail = _tail.ContinueWith(_ => delivery(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            }
        }
    }
}
