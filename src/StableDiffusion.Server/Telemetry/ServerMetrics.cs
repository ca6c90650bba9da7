using System.Diagnostics.Metrics;
namespace StableDiffusion.Server.Telemetry;

/// <summary>
/// The server's OpenTelemetry instruments. Prometheus names follow from the instrument name and unit
/// (e.g. <c>sd.job.queue_wait</c> in seconds is scraped as <c>sd_job_queue_wait_seconds</c>).
/// </summary>
internal sealed class ServerMetrics
{
    public const string MeterName = "StableDiffusion.Server";

    // OpenTelemetry's default buckets (0, 5, 10, 25 ... 10000) suit milliseconds; these histograms are in seconds
    // (a stage takes milliseconds, a queued job up to Queue:JobDeadlineSeconds = 600 s), so without explicit
    // boundaries every observation lands in le="5" and histogram_quantile is useless.
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    };

    // From a CPU at a fraction of a step per second to a large GPU at tens of steps per second.
    private static readonly InstrumentAdvice<double> RateBuckets = new()
    {
        HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200],
    };

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
    private readonly Counter<long> _claims;
    private readonly Counter<long> _reclaims;
    private readonly Counter<long> _poisoned;
    private readonly Histogram<long> _attempts;
    private readonly Histogram<long> _batchJobs;
    private readonly Histogram<long> _batchImages;
    private readonly Counter<long> _unetCalls;
    private readonly Counter<long> _unetImages;
    private readonly Counter<long> _promptCacheHits;
    private readonly Counter<long> _promptCacheMisses;

    public ServerMetrics(IMeterFactory meters, IQueueGauge queue)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("sd.queue.depth", () => queue.Depth, "{job}", "Jobs waiting for a worker");
        meter.CreateObservableGauge("sd.queue.capacity", () => queue.Capacity, "{job}", "Queue capacity");
        _jobsFinished = meter.CreateCounter<long>("sd.jobs.finished", "{job}", "Jobs by final status");
        _jobsRejected = meter.CreateCounter<long>("sd.jobs.rejected", "{job}", "Submissions refused because the queue was full or closed");
        _queueWait = meter.CreateHistogram("sd.job.queue_wait", "s", "Time from creation to start", advice: SecondsBuckets);
        _runTime = meter.CreateHistogram("sd.job.run_time", "s", "Time from start to completion", advice: SecondsBuckets);
        _stepsPerSecond = meter.CreateHistogram("sd.denoise.steps_per_second", null, "Denoising steps per second per job", advice: RateBuckets);
        _steps = meter.CreateCounter<long>("sd.denoise.steps", "{step}", "Denoising steps run");
        _images = meter.CreateCounter<long>("sd.images.generated", "{image}", "Images generated");
        _stage = meter.CreateHistogram("sd.stage.duration", "s", "Pipeline stage wall time (tokenize, text_encoder, denoise, vae_decode, ...)", advice: SecondsBuckets);
        _session = meter.CreateHistogram("sd.onnxruntime.session_time", "s", "Time inside ONNX Runtime per component per job", advice: SecondsBuckets);
        _claims = meter.CreateCounter<long>("sd.queue.claims", "{job}", "Jobs a worker took from the shared queue");
        _reclaims = meter.CreateCounter<long>("sd.queue.reclaims", "{job}", "Jobs taken over from a worker that stopped (stale claim, crash)");
        _poisoned = meter.CreateCounter<long>("sd.jobs.poisoned", "{job}", "Jobs failed after Storage:MaxAttempts interrupted runs");
        _attempts = meter.CreateHistogram<long>("sd.job.attempt", "{attempt}", "Attempt number of each started run",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 3, 5, 10] });
        _onnxRuntime = meter.CreateHistogram("sd.onnxruntime.time", "s", "Time inside ONNX Runtime per job", advice: SecondsBuckets);
        var batchBuckets = new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 3, 4, 6, 8, 12, 16, 32] };
        _batchJobs = meter.CreateHistogram<long>("sd.worker.batch_jobs", "{job}", "Jobs per worker run (1 = alone; more = one UNet batch)", advice: batchBuckets);
        _batchImages = meter.CreateHistogram<long>("sd.worker.batch_images", "{image}", "Images per worker run (all its jobs' outputs)", advice: batchBuckets);
        _unetCalls = meter.CreateCounter<long>("sd.unet.calls", "{call}", "UNet calls (one per denoising call of a run, whatever its batch)");
        _unetImages = meter.CreateCounter<long>("sd.unet.images", "{image}", "Images denoised, summed over UNet calls: sd.unet.images / sd.unet.calls = images per UNet call");
        _promptCacheHits = meter.CreateCounter<long>("sd.prompt_cache.hits", "{prompt}", "Prompts whose text-encoder output came from the cache");
        _promptCacheMisses = meter.CreateCounter<long>("sd.prompt_cache.misses", "{prompt}", "Prompts that ran the text encoder");
    }

    /// <summary>One worker run: its jobs and images (a solo job is a batch of one).</summary>
    public void Batch(int jobs, int images)
    {
        _batchJobs.Record(jobs);
        _batchImages.Record(images);
    }

    /// <summary>UNet calls of a run and the images each call denoised.</summary>
    public void UNetCalls(string model, int calls, int imagesPerCall)
    {
        _unetCalls.Add(calls, Tag(model));
        _unetImages.Add((long)calls * imagesPerCall, Tag(model));
    }

    public void JobRejected() => _jobsRejected.Add(1);

    public void Claimed(bool takenOver)
    {
        _claims.Add(1);
        if (takenOver)
        {
            _reclaims.Add(1);
        }
    }

    public void Poisoned() => _poisoned.Add(1);

    public void AttemptStarted(int attempt) => _attempts.Record(attempt);

    public void JobStarted(string model, double queueSeconds) => _queueWait.Record(queueSeconds, Tag(model));

    /// <summary>A job reached <paramref name="status"/> (a wire name); <paramref name="runSeconds"/> when it had started.</summary>
    public void JobFinished(string model, string status, double? runSeconds)
    {
        _jobsFinished.Add(1, [new("status", status), new("model", model)]);
        if (runSeconds is { } seconds)
        {
            _runTime.Record(seconds, [new("status", status), new("model", model)]);
        }
    }

    public void Generated(string model, int images, int steps, double denoiseSeconds, IReadOnlyDictionary<string, double> stages, double onnxSeconds)
    {
        _images.Add(images, Tag(model));
        _steps.Add(steps, Tag(model));
        if (denoiseSeconds > 0)
        {
            _stepsPerSecond.Record(steps / denoiseSeconds, Tag(model));
        }
        foreach (var (stage, seconds) in stages)
        {
            _stage.Record(seconds, [new("stage", stage), new("model", model)]);
        }
        _onnxRuntime.Record(onnxSeconds, Tag(model));
    }

    /// <summary>Prompt-embedding cache lookups of one job (prompt and negative prompt).</summary>
    public void PromptCache(string model, long hits, long misses)
    {
        _promptCacheHits.Add(hits, Tag(model));
        _promptCacheMisses.Add(misses, Tag(model));
    }

    /// <summary>ONNX Runtime time of one component (text_encoder, unet, vae_decoder) in one job.</summary>
    public void SessionTime(string model, string component, double seconds)
        => _session.Record(seconds, [new("component", component), new("model", model)]);

    private static KeyValuePair<string, object?> Tag(string model) => new("model", model);
}
