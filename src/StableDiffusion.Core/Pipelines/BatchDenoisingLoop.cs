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

    /// <summary>Runs the whole schedule; returns the slots that finished (canceled ones are in <paramref name="canceled"/>).</summary>
    public List<BatchSlot> Run(List<BatchSlot> slots, IReadOnlyList<double> timesteps, List<BatchSlot> canceled)
    {
        var active = new List<BatchSlot>(slots);
        int total = timesteps.Count;
        // Progress in the user's steps, as DenoisingLoop counts them (PNDM makes N+1 calls for N steps).
        int reportedTotal = StepsAsked > 0 && total > 0 ? StepsAsked : total;
        long start = Stopwatch.GetTimestamp();
        UNetRun? run = null;
        float[] scaled = [], prediction = [];
        try
        {
            for (int i = 0; i < total; i++)
            {
                int before = active.Count;
                active.RemoveAll(slot =>
                {
                    bool stop = slot.Cancellation.IsCancellationRequested;
                    if (stop)
                    {
                        canceled.Add(slot);
                    }

                    return stop;
                });
                if (active.Count == 0)
                {
                    break;
                }

                if (run is null || active.Count != before)
                {
                    run?.Dispose();
                    run = CreateRun(active, out scaled, out prediction);
                }

                Step(run, active, timesteps[i], i, scaled, prediction);
                int step = (int)((long)(i + 1) * reportedTotal / total);
                foreach (var slot in active)
                {
                    if (step > slot.Reported)
                    {
                        slot.Reported = step;
                        slot.Observer?.OnStep?.Invoke(new StepProgress(step, reportedTotal, Stopwatch.GetElapsedTime(start)));
                    }
                }
            }
        }
        finally
        {
            run?.Dispose();
        }

        return active;
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
