using System.Diagnostics.Metrics;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Telemetry;

/// <summary>
/// The server's OpenTelemetry instruments. Prometheus names follow from the instrument name and unit
/// (e.g. <c>sd.job.queue_wait</c> in seconds is scraped as <c>sd_job_queue_wait_seconds</c>).
/// </summary>
public sealed class ServerMetrics
{
    public const string MeterName = "StableDiffusion.Server";

    private readonly Counter<long> _jobsFinished;
    private readonly Counter<long> _jobsRejected;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _runTime;
    private readonly Histogram<double> _stepsPerSecond;
    private readonly Counter<long> _images;
    private readonly Counter<long> _steps;
    private readonly Histogram<double> _stage;
    private readonly Histogram<double> _onnxRuntime;
    private readonly Histogram<double> _session;

    public ServerMetrics(IMeterFactory meters, GenerationQueue queue)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("sd.queue.depth", () => queue.Depth, "{job}", "Jobs waiting for a worker");
        meter.CreateObservableGauge("sd.queue.capacity", () => queue.Capacity, "{job}", "Queue capacity");
        _jobsFinished = meter.CreateCounter<long>("sd.jobs.finished", "{job}", "Jobs by final status");
        _jobsRejected = meter.CreateCounter<long>("sd.jobs.rejected", "{job}", "Submissions refused because the queue was full or closed");
        _queueWait = meter.CreateHistogram<double>("sd.job.queue_wait", "s", "Time from creation to start");
        _runTime = meter.CreateHistogram<double>("sd.job.run_time", "s", "Time from start to completion");
        _stepsPerSecond = meter.CreateHistogram<double>("sd.denoise.steps_per_second", null, "Denoising steps per second per job");
        _steps = meter.CreateCounter<long>("sd.denoise.steps", "{step}", "Denoising steps run");
        _images = meter.CreateCounter<long>("sd.images.generated", "{image}", "Images generated");
        _stage = meter.CreateHistogram<double>("sd.stage.duration", "s", "Pipeline stage wall time (tokenize, text_encoder, denoise, vae_decode, ...)");
        _session = meter.CreateHistogram<double>("sd.onnxruntime.session_time", "s", "Time inside ONNX Runtime per component per job");
        _onnxRuntime = meter.CreateHistogram<double>("sd.onnxruntime.time", "s", "Time inside ONNX Runtime per job");
    }

    public void JobRejected() => _jobsRejected.Add(1);

    public void JobStarted(Job job) => _queueWait.Record((job.StartedAt!.Value - job.CreatedAt).TotalSeconds, Tag(job));

    public void JobFinished(Job job)
    {
        _jobsFinished.Add(1, [new("status", job.Status.WireName()), new("model", job.Model.Name)]);
        if (job.StartedAt is { } started && job.CompletedAt is { } completed)
        {
            _runTime.Record((completed - started).TotalSeconds, [new("status", job.Status.WireName()), new("model", job.Model.Name)]);
        }
    }

    public void Generated(Job job, int images, int steps, double denoiseSeconds, IReadOnlyDictionary<string, double> stages, double onnxSeconds)
    {
        _images.Add(images, Tag(job));
        _steps.Add(steps, Tag(job));
        if (denoiseSeconds > 0)
        {
            _stepsPerSecond.Record(steps / denoiseSeconds, Tag(job));
        }
        foreach (var (stage, seconds) in stages)
        {
            _stage.Record(seconds, [new("stage", stage), new("model", job.Model.Name)]);
        }
        _onnxRuntime.Record(onnxSeconds, Tag(job));
    }

    /// <summary>ONNX Runtime time of one component (text_encoder, unet, vae_decoder) in one job.</summary>
    public void SessionTime(Job job, string component, double seconds)
        => _session.Record(seconds, [new("component", component), new("model", job.Model.Name)]);

    private static KeyValuePair<string, object?> Tag(Job job) => new("model", job.Model.Name);
}
