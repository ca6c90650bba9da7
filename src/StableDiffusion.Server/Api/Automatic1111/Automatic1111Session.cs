using System.Globalization;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// What A1111 keeps in its global <c>shared.state</c> and <c>opts</c>, for the A1111 surface only: the checkpoint its
/// calls use (<c>sd_model_checkpoint</c>), and the A1111 calls in progress, which <c>/progress</c> reports and
/// <c>/interrupt</c> and <c>/skip</c> act on (the oldest one, as A1111 runs one at a time).
/// </summary>
internal sealed class Automatic1111Session(ModelCatalog catalog)
{
    private readonly Lock _lock = new();
    private readonly List<Automatic1111Run> _runs = [];
    private string? _checkpoint;
    private string _randnSource = "GPU";

    /// <summary>A1111's <c>randn_source</c> option (GPU by default, as in A1111): the noise source of A1111 calls unless
    /// <c>override_settings.randn_source</c> names another.</summary>
    public string RandnSource
    {
        get
        {
            lock (_lock)
            {
                return _randnSource;
            }
        }
        set
        {
            lock (_lock)
            {
                _randnSource = value;
            }
        }
    }

    /// <summary>A1111's three <c>randn_source</c> values (case-insensitive).</summary>
    public static bool IsRandnSource(string value) => value.Trim().ToUpperInvariant() is "GPU" or "CPU" or "NV";

    /// <summary>The model A1111 calls use unless <c>override_settings.sd_model_checkpoint</c> names another.</summary>
    public ServedModel Checkpoint
    {
        get
        {
            lock (_lock)
            {
                return (_checkpoint is null ? null : catalog.Find(_checkpoint)) ?? catalog.Default;
            }
        }
        set
        {
            lock (_lock)
            {
                _checkpoint = value.Name;
            }
        }
    }

    public Automatic1111Run Begin(string jobName, int iterations, DateTimeOffset now)
    {
        var run = new Automatic1111Run(jobName, iterations, now);
        lock (_lock)
        {
            _runs.Add(run);
        }
        return run;
    }

    public void End(Automatic1111Run run)
    {
        lock (_lock)
        {
            _runs.Remove(run);
        }
        run.Detach();
    }

    /// <summary>The run <c>/progress</c> reports: the oldest A1111 call still in progress.</summary>
    public Automatic1111Run? Current
    {
        get
        {
            lock (_lock)
            {
                return _runs.Count > 0 ? _runs[0] : null;
            }
        }
    }

    /// <summary>A1111's <c>/progress</c>: idle zeros, or its formula over batches (job_no/job_count) and steps.</summary>
    public Automatic1111Progress Progress(DateTimeOffset now, bool includeImage)
    {
        if (Current is not { } run)
        {
            return new Automatic1111Progress(0, 0, new Automatic1111State(false, false, false, "", 0, "0", 0, 0, 0), null, null);
        }
        var s = run.Snapshot();
        // modules/api/api.py progressapi: 0.01 "to avoid dividing by zero", plus finished batches, plus this batch's steps.
        var progress = 0.01 + (double)s.JobNo / s.JobCount;
        if (s.SamplingSteps > 0)
        {
            progress += 1.0 / s.JobCount * s.SamplingStep / s.SamplingSteps;
        }
        var elapsed = (now - run.StartedAt).TotalSeconds;
        var etaRelative = elapsed / progress - elapsed;
        return new Automatic1111Progress(Math.Min(progress, 1), etaRelative,
            new Automatic1111State(s.Skipped, s.Interrupted, false, run.JobName, s.JobCount, run.JobTimestamp, s.JobNo, s.SamplingStep, s.SamplingSteps),
            includeImage && s.LastImage is { } image ? Convert.ToBase64String(image) : null,
            null);
    }

    /// <summary>Stops the current run: its running job is canceled and no further batch starts.</summary>
    public bool Interrupt(JobDispatcher dispatcher) => Current?.Stop(dispatcher, skipOnly: false) ?? false;

    /// <summary>Cancels the current run's running batch; the run goes on with its next batch.</summary>
    public bool Skip(JobDispatcher dispatcher) => Current?.Stop(dispatcher, skipOnly: true) ?? false;

}

/// <summary>One A1111 call in progress: <c>n_iter</c> batches run one after another, each a job on the shared queue.</summary>
internal sealed class Automatic1111Run(string jobName, int iterations, DateTimeOffset startedAt)
{
    private readonly Lock _lock = new();
    private Job? _job;
    private IDisposable? _subscription;
    private int _jobNo;
    private int _step;
    private int _steps;
    private bool _interrupted;
    private bool _skipped;
    private byte[]? _lastImage;

    public string JobName => jobName;
    public DateTimeOffset StartedAt => startedAt;
    // A1111's job_timestamp format (datetime.now().strftime("%Y%m%d%H%M%S")).
    public string JobTimestamp { get; } = startedAt.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    public bool Interrupted
    {
        get { lock (_lock) { return _interrupted; } }
    }

    /// <summary>Follows <paramref name="job"/> as batch <paramref name="jobNo"/>; a run interrupted meanwhile cancels it at once.</summary>
    public void Attach(Job job, int jobNo, JobDispatcher dispatcher)
    {
        bool cancel;
        IDisposable? previous;
        lock (_lock)
        {
            previous = _subscription;
            _subscription = null;
            _job = job;
            _jobNo = jobNo;
            _step = 0;
            _steps = job.Request.Steps;
            _skipped = false;
            cancel = _interrupted;
        }
        previous?.Dispose();
        // Subscribed outside our lock: the job calls back under its own lock, which then takes ours.
        var subscription = job.Subscribe(e =>
        {
            if (e is JobProgress progress)
            {
                lock (_lock)
                {
                    if (ReferenceEquals(_job, job))
                    {
                        (_step, _steps) = (progress.Step, progress.Total);
                    }
                }
            }
        }).Subscription;
        lock (_lock)
        {
            _subscription = subscription;
        }
        if (cancel)
        {
            dispatcher.Cancel(job);
        }
    }

    /// <summary>Keeps the last finished image (what <c>current_image</c> shows between batches, as A1111 shows its last preview).</summary>
    public void Finished(byte[]? lastImage)
    {
        lock (_lock)
        {
            _lastImage = lastImage ?? _lastImage;
        }
    }

    /// <summary>True when the batch just canceled was skipped (the run goes on) rather than interrupted.</summary>
    public bool ConsumeSkip()
    {
        lock (_lock)
        {
            var skipped = _skipped && !_interrupted;
            _skipped = false;
            return skipped;
        }
    }

    internal bool Stop(JobDispatcher dispatcher, bool skipOnly)
    {
        Job? job;
        lock (_lock)
        {
            if (skipOnly)
            {
                _skipped = true;
            }
            else
            {
                _interrupted = true;
            }
            job = _job;
        }
        if (job is not null)
        {
            dispatcher.Cancel(job);
        }
        return true;
    }

    internal void Detach()
    {
        IDisposable? subscription;
        lock (_lock)
        {
            subscription = _subscription;
            _subscription = null;
        }
        subscription?.Dispose();
    }

    internal (int JobNo, int JobCount, int SamplingStep, int SamplingSteps, bool Interrupted, bool Skipped, byte[]? LastImage) Snapshot()
    {
        lock (_lock)
        {
            return (_jobNo, iterations, _step, _steps, _interrupted, _skipped, _lastImage);
        }
    }
}
