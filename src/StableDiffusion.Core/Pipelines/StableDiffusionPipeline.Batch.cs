using System.Diagnostics;
using System.Numerics.Tensors;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Pipelines;

public sealed partial class StableDiffusionPipeline
{
    /// <summary>
    /// Runs several text-to-image (or image-to-image) jobs as one UNet batch: every image of every job in each UNet call, while each job
    /// keeps its own prompts, guidance scale, seeds and noise stream, scheduler state, progress callbacks and
    /// cancellation. Image k of each job equals the job's solo <see cref="Generate"/> up to the UNet's batched
    /// arithmetic. The jobs must share a <see cref="BatchCompatibility.KeyOf"/> (else <see cref="ArgumentException"/>).
    /// A job that fails on its own (prompt, canceled) ends alone; a UNet failure ends every job still running.
    /// </summary>
    /// <param name="onUNetCall">Called with the images in each UNet call (metrics).</param>
    /// <returns>One outcome per job, in order.</returns>
    public IReadOnlyList<BatchOutcome> GenerateBatch(IReadOnlyList<BatchJob> jobs, Action<int>? onUNetCall = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(jobs.Count);
        string? key = BatchCompatibility.KeyOf(jobs[0].Settings);
        foreach (var job in jobs)
        {
            if (key is null || BatchCompatibility.KeyOf(job.Settings) != key)
            {
                throw new ArgumentException("Only text-to-image jobs, or image-to-image jobs at one strength, with the same size, steps, scheduler, sigma schedule and guidance on/off can share a batch.", nameof(jobs));
            }

            if (!Info.Tasks.Contains(job.Settings.Task))
            {
                throw new NotSupportedException(ModelTasks.Unsupported(Info, job.Settings.Task));
            }
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("generate_batch");
        activity?.SetTag("sd.model", Info.Name);
        activity?.SetTag("sd.batch_jobs", jobs.Count);
        var outcomes = new BatchOutcome?[jobs.Count];
        var runs = new GenerationRun[jobs.Count];
        var slots = new List<BatchSlot>(jobs.Count);
        for (int j = 0; j < jobs.Count; j++)
        {
            try
            {
                jobs[j].Cancellation.ThrowIfCancellationRequested();
                // An image-to-image job without a size takes its input's, as alone.
                (int Width, int Height)? size = jobs[j].Settings.Task == GenerationTask.ImageToImage ? DefaultSize(jobs[j].Settings.Image!) : null;
                runs[j] = new GenerationRun(this, jobs[j].Settings, jobs[j].Observer, size?.Width, size?.Height);
                slots.Add(PrepareSlot(j, jobs[j], runs[j]));
            }
            catch (Exception e)
            {
                outcomes[j] = new BatchOutcome(null, e);
            }
        }

        if (slots.Count > 0)
        {
            DenoiseBatch(jobs[0].Settings, slots, runs, outcomes, onUNetCall);
        }

        return outcomes.Select(o => o!).ToArray();
    }

    /// <summary>The job's prompts encoded, its scheduler set and its initial latents drawn as its solo run draws them
    /// (image-to-image: its image encoded and noised at the strength's first call, as <see cref="ImageToImage"/> does).</summary>
    private BatchSlot PrepareSlot(int j, BatchJob job, GenerationRun run)
    {
        var settings = job.Settings;
        var scheduler = CreateScheduler(settings);
        int images = settings.NumOutputs;
        bool guided = settings.GuidanceScale > 1.0;
        float[] hidden = run.Stage("text_encoder", () => EncodePrompts(settings, images, guided, run.Log));
        int uncondLength = guided ? hidden.Length / 2 : 0;

        float[] latents;
        int start = 0;
        var noise = run.CreateNoise();
        if (settings.Task == GenerationTask.ImageToImage)
        {
            float[] init = run.Stage("vae_encode", () => EncodeLatents(InputPlanes(settings.Image!, run), run, images, noise));
            start = StrengthSchedule.StartIndex(settings.Steps, settings.PromptStrength, scheduler.Timesteps.Count, scheduler.Order);
            latents = NoiseAt(scheduler, init, start, noise, out _);
        }
        else
        {
            latents = new float[images * 4 * run.LatentHeight * run.LatentWidth];
            noise.Fill(latents);
            TensorPrimitives.Multiply(latents, (float)scheduler.InitNoiseSigma, latents);
        }

        return new BatchSlot(j, images, latents, hidden[..uncondLength], hidden[uncondLength..], scheduler, noise.Fill,
            settings.GuidanceScale, job.Observer, job.Cancellation) { StartIndex = start };
    }

    private void DenoiseBatch(GenerationSettings first, List<BatchSlot> slots, GenerationRun[] runs, BatchOutcome?[] outcomes, Action<int>? onUNetCall)
    {
        var timesteps = slots[0].Scheduler.Timesteps;
        int startIndex = slots[0].StartIndex;
        foreach (var slot in slots)
        {
            if (!slot.Scheduler.Timesteps.SequenceEqual(timesteps) || slot.StartIndex != startIndex)
            {
                throw new ArgumentException("The jobs' schedules differ; they cannot share a batch.");
            }
        }

        var loop = new BatchDenoisingLoop(_unet, _prompts.HiddenSize, runs[slots[0].Job].LatentHeight, runs[slots[0].Job].LatentWidth,
            first.GuidanceScale > 1.0)
        {
            OnUNetCall = onUNetCall,
            StepsAsked = first.Steps,
        };
        var canceled = new List<BatchSlot>();
        List<BatchSlot> finished;
        long start = Stopwatch.GetTimestamp();
        try
        {
            using var denoise = CoreTelemetry.ActivitySource.StartActivity("denoise");
            finished = loop.Run(slots, timesteps, startIndex, canceled);
        }
        catch (Exception e)
        {
            foreach (var slot in slots)
            {
                outcomes[slot.Job] = new BatchOutcome(null, e);
            }

            return;
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        foreach (var slot in canceled)
        {
            outcomes[slot.Job] = new BatchOutcome(null, new OperationCanceledException(slot.Cancellation));
        }

        foreach (var slot in finished)
        {
            var run = runs[slot.Job];
            run.AddStage("denoise", seconds);
            try
            {
                outcomes[slot.Job] = new BatchOutcome(run.Finish(slot.Latents, slot.Scheduler.Name, timesteps.Count - startIndex, slot.Cancellation), null);
            }
            catch (Exception e)
            {
                outcomes[slot.Job] = new BatchOutcome(null, e);
            }
        }
    }
}
