using System.Diagnostics;
using System.Numerics.Tensors;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Pipelines;

/// <summary>One job's share of a batched denoising run: its latents, encoded prompts, scheduler (with its own multistep
/// history), noise stream, guidance scale, progress and cancellation.</summary>
internal sealed class BatchSlot(int job, int images, float[] latents, float[] uncond, float[] cond, IScheduler scheduler,
    NoiseFill noise, double guidanceScale, GenerationObserver? observer, CancellationToken cancellation)
{
    public int Job => job;
    public int Images => images;
    public float[] Latents => latents;
    /// <summary>The negative prompt's hidden states × images (empty without guidance).</summary>
    public float[] Uncond => uncond;
    /// <summary>The prompt's hidden states × images.</summary>
    public float[] Cond => cond;
    public IScheduler Scheduler => scheduler;
    public NoiseFill Noise => noise;
    public float Guidance { get; } = (float)guidanceScale;
    public GenerationObserver? Observer => observer;
    public CancellationToken Cancellation => cancellation;
    public float[] Guided { get; } = new float[latents.Length];
    public int Reported { get; set; }
    /// <summary>The first model call (image-to-image starts part-way, at its strength's call).</summary>
    public int StartIndex { get; init; }
}

/// <summary>
/// <see cref="DenoisingLoop"/> for several jobs at once: one UNet call per step on
/// [uncond(job 1) … uncond(job J), cond(job 1) … cond(job J)], then each job guides with its own scale and steps its
/// own scheduler on its own latents with its own noise — so each image is its solo run's, up to the UNet's batched
/// arithmetic. A job whose token is canceled leaves before the next step: the batch shrinks (the UNet buffers are
/// rebuilt for the jobs left) and the others go on. A cancel arriving during a UNet call waits for that call, as alone.
/// </summary>
internal sealed class BatchDenoisingLoop(UNetModel unet, int hiddenWidth, int latentHeight, int latentWidth, bool guided)
{
    private readonly int _latentSize = 4 * latentHeight * latentWidth;

    /// <summary>Called with the number of images each time the UNet runs (metrics: images per UNet call).</summary>
    public Action<int>? OnUNetCall { get; init; }

    public int StepsAsked { get; init; }

    /// <summary>Runs calls <paramref name="startIndex"/> … end of the schedule; returns the slots that finished
    /// (canceled ones are in <paramref name="canceled"/>).</summary>
    public List<BatchSlot> Run(List<BatchSlot> slots, IReadOnlyList<double> timesteps, int startIndex, List<BatchSlot> canceled)
    {
        var active = new List<BatchSlot>(slots);
        int total = timesteps.Count;
        int calls = total - startIndex;
        // Progress in the user's steps, as DenoisingLoop counts them (PNDM makes N+1 calls for N steps; image-to-image
        // at strength 0.5 reports half of them).
        int reportedTotal = StepsAsked > 0 && calls > 0 ? Math.Max(1, (int)Math.Round((double)calls * StepsAsked / total)) : calls;
        long start = Stopwatch.GetTimestamp();
        UNetRun? run = null;
        DeviceSteps? device = null;
        DeviceStepJob[] jobs = [];
        float[] scaled = [], prediction = [];
        try
        {
            for (int i = startIndex; i < total; i++)
            {
                var left = new List<(int FirstImage, int Images)>();
                int image = 0, before = active.Count;
                active.RemoveAll(slot =>
                {
                    bool stop = slot.Cancellation.IsCancellationRequested;
                    if (stop)
                    {
                        canceled.Add(slot);
                    }
                    else
                    {
                        left.Add((image, slot.Images));
                    }

                    image += slot.Images;
                    return stop;
                });
                if (active.Count == 0)
                {
                    break;
                }

                if (run is null || active.Count != before)
                {
                    var previous = device;
                    run?.Dispose();
                    run = CreateRun(active, out scaled, out prediction);
                    jobs = Jobs(active);
                    device = DeviceRun(run, active, jobs, i, calls, fresh: previous is null);
                    if (previous is not null && device is not null)
                    {
                        // A canceled job left a device-stepped batch: the others' state moves to the smaller buffers.
                        previous.MoveTo(device, left, jobs, i);
                    }

                    previous?.Dispose();
                }

                if (device is not null)
                {
                    run.SetTimestep(timesteps[i]);
                    run.RunResident();
                    OnUNetCall?.Invoke(scaled.Length / _latentSize);
                    device.Step(jobs, i, total);
                }
                else
                {
                    Step(run, active, timesteps[i], i, scaled, prediction);
                }

                int step = (int)((long)(i - startIndex + 1) * reportedTotal / calls);
                foreach (var slot in active)
                {
                    if (step > slot.Reported)
                    {
                        slot.Reported = step;
                        slot.Observer?.OnStep?.Invoke(new StepProgress(step, reportedTotal, Stopwatch.GetElapsedTime(start)));
                    }
                }
            }

            if (device is not null && active.Count > 0)
            {
                device.ReadLatents(scaled);
                int offset = 0;
                foreach (var slot in active)
                {
                    scaled.AsSpan(offset, slot.Latents.Length).CopyTo(slot.Latents);
                    offset += slot.Latents.Length;
                }
            }
        }
        finally
        {
            device?.Dispose();
            run?.Dispose();
        }

        return active;
    }

    /// <summary>The device-stepped state of a batch, where the UNet's I/O is bound with step graphs and every job's
    /// scheduler steps linearly (null: the batch steps on the host). A <paramref name="fresh"/> one starts from the jobs'
    /// latents at call <paramref name="index"/>; a rebuilt batch gets its state from the previous one.</summary>
    private DeviceSteps? DeviceRun(UNetRun run, List<BatchSlot> active, DeviceStepJob[] jobs, int index, int calls, bool fresh)
    {
        int images = active.Sum(slot => slot.Images);
        if (run.StepGraphs is not { } graphs || !active.TrueForAll(slot => DeviceSteps.Supports(slot.Scheduler))
            || !DeviceSteps.Fits(images, _latentSize, calls))
        {
            return null;
        }

        var device = new DeviceSteps(graphs, run.BoundBuffers!, images, _latentSize, guided, calls);
        for (int j = 0; j < jobs.Length; j++)
        {
            device.SetGuidance(jobs[j].FirstImage, jobs[j].Images, active[j].Guidance);
        }

        if (fresh)
        {
            var latents = new float[images * _latentSize];
            foreach (var (slot, job) in active.Zip(jobs))
            {
                slot.Latents.CopyTo(latents, job.FirstImage * _latentSize);
            }

            device.Start(latents, jobs, index);
        }

        return device;
    }

    private static DeviceStepJob[] Jobs(List<BatchSlot> active)
    {
        var jobs = new DeviceStepJob[active.Count];
        int image = 0;
        for (int j = 0; j < active.Count; j++)
        {
            jobs[j] = new DeviceStepJob(active[j].Scheduler, active[j].Noise, image, active[j].Images);
            image += active[j].Images;
        }

        return jobs;
    }

    private void Step(UNetRun run, List<BatchSlot> active, double timestep, int i, float[] scaled, float[] prediction)
    {
        int offset = 0;
        foreach (var slot in active)
        {
            slot.Scheduler.ScaleModelInput(slot.Latents, scaled.AsSpan(offset, slot.Latents.Length), i);
            offset += slot.Latents.Length;
        }

        // Text-to-image has no conditioning channels: each half of the sample is the scaled latents of every job.
        for (int half = 0; half < (guided ? 2 : 1); half++)
        {
            run.Sample.Write(scaled, half * scaled.Length);
        }

        run.SetTimestep(timestep);
        run.Run();
        OnUNetCall?.Invoke(scaled.Length / _latentSize);
        run.Output.Read(prediction);

        offset = 0;
        foreach (var slot in active)
        {
            int length = slot.Latents.Length;
            ReadOnlySpan<float> modelOutput;
            if (guided)
            {
                // noise = uncond + s_job · (cond − uncond), the same operations as DenoisingLoop's, per job.
                var uncond = prediction.AsSpan(offset, length);
                var cond = prediction.AsSpan(scaled.Length + offset, length);
                TensorPrimitives.Subtract(cond, uncond, slot.Guided);
                TensorPrimitives.MultiplyAdd(slot.Guided, slot.Guidance, uncond, slot.Guided);
                modelOutput = slot.Guided;
            }
            else
            {
                modelOutput = prediction.AsSpan(offset, length);
            }

            slot.Scheduler.Step(modelOutput, i, slot.Latents, slot.Noise);
            offset += length;
        }
    }

    /// <summary>UNet buffers for the jobs still running, hidden states laid out [uncond × all, cond × all].</summary>
    private UNetRun CreateRun(List<BatchSlot> active, out float[] scaled, out float[] prediction)
    {
        int images = 0, uncondLength = 0;
        foreach (var slot in active)
        {
            images += slot.Images;
            uncondLength += slot.Uncond.Length;
        }

        int halves = guided ? 2 : 1;
        int condLength = 0;
        foreach (var slot in active)
        {
            condLength += slot.Cond.Length;
        }

        var hidden = new float[uncondLength + condLength];
        int offset = 0;
        foreach (var slot in active)
        {
            slot.Uncond.CopyTo(hidden, offset);
            offset += slot.Uncond.Length;
        }

        foreach (var slot in active)
        {
            slot.Cond.CopyTo(hidden, offset);
            offset += slot.Cond.Length;
        }

        scaled = new float[images * _latentSize];
        prediction = new float[halves * images * _latentSize];
        return unet.CreateRun(halves * images, latentHeight, latentWidth, hidden, hiddenWidth);
    }
}
