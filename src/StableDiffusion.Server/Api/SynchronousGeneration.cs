using System.Text.Json;
using System.Text.Json.Serialization;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Api;

/// <summary>How a synchronous call ended.</summary>
internal enum WaitOutcome
{
    /// <summary>The job reached a terminal status (succeeded, failed or canceled).</summary>
    Finished,
    /// <summary>Not queued: the queue was full or shutting down (see the rejection).</summary>
    Rejected,
    /// <summary>The job did not finish within the configured deadline and was canceled.</summary>
    TimedOut,
    /// <summary>The client went away; the job was canceled because nobody can collect its result.</summary>
    ClientGone,
}

/// <summary>
/// The OpenAI and AUTOMATIC1111 surfaces answer in the same HTTP exchange: they queue a job on the one queue and wait
/// for it. The wait is bounded by <c>Queue:JobDeadlineSeconds</c>; a job nobody waits for any more is canceled.
/// </summary>
internal static class SynchronousGeneration
{
    private static readonly JsonSerializerOptions InputJson = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static async Task<(Job? Job, WaitOutcome Outcome, SubmitRejection Rejection)> RunAsync(
        JobDispatcher dispatcher, JobSubmission submission, TimeSpan deadline, CancellationToken requestAborted, Action<Job>? onQueued = null)
    {
        var (job, rejection) = await dispatcher.SubmitAsync(submission);
        if (job is null)
        {
            return (null, WaitOutcome.Rejected, rejection);
        }
        onQueued?.Invoke(job);
        try
        {
            switch (await dispatcher.WaitAsync(job, deadline, requestAborted))
            {
                case JobWaitEnd.Finished:
                    return (job, WaitOutcome.Finished, SubmitRejection.None);
                case JobWaitEnd.ShuttingDown:
                    // The job stays queued in the store and runs after the restart; this call cannot wait for it.
                    return (job, WaitOutcome.Rejected, SubmitRejection.ShuttingDown);
                default:
                    dispatcher.Cancel(job);
                    return (job, WaitOutcome.TimedOut, SubmitRejection.None);
            }
        }
        catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
        {
            dispatcher.Cancel(job);
            return (job, WaitOutcome.ClientGone, SubmitRejection.None);
        }
    }

    /// <summary>
    /// The input a prediction created by a compatibility surface shows on <c>/v1/predictions</c>: the request in the
    /// native names, without image bytes (they can be megabytes and are not echoed).
    /// </summary>
    public static JsonElement EchoInput(GenerationInput input)
        => JsonSerializer.SerializeToElement(input with
        {
            Image = input.Image is null && input.ImageBytes is null ? null : "(image)",
            Mask = input.Mask is null && input.MaskBytes is null ? null : "(mask)",
        }, InputJson);
}
