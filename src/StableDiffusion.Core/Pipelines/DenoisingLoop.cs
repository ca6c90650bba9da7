using System.Diagnostics;
using System.Numerics.Tensors;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Pipelines;

/// <summary>
/// The denoising loop every task shares (txt2img, img2img, inpainting, upscaling, depth): scale the latents, add the
/// task's conditioning channels, run the UNet on the classifier-free-guidance batch, guide, step the scheduler.
/// </summary>
/// <remarks>
/// The UNet batch is [uncond × N, cond × N] as in diffusers; with guidance ≤ 1 only the conditional half runs.
/// This is the hot path: every buffer is allocated once, before the first step.
/// </remarks>
public sealed class DenoisingLoop
{
    private readonly UNetRun _run;
    private readonly IScheduler _scheduler;
    private readonly int _images;
    private readonly int _latentSize;
    private readonly bool _guided;
    private readonly float _guidance;
    private readonly float[] _scaled;
    private readonly float[] _prediction;
    private readonly float[] _guidedPrediction;

    public DenoisingLoop(UNetRun run, IScheduler scheduler, int images, int latentHeight, int latentWidth, double guidanceScale)
    {
        _run = run;
        _scheduler = scheduler;
        _images = images;
        _guided = guidanceScale > 1.0;
        _guidance = (float)guidanceScale;
        _latentSize = 4 * latentHeight * latentWidth;
        if (run.Batch != (_guided ? 2 : 1) * images)
        {
            throw new ArgumentException($"UNet batch {run.Batch} does not fit {images} images with guidance {guidanceScale}.");
        }

        _scaled = new float[images * _latentSize];
        _prediction = new float[run.Batch * _latentSize];
        _guidedPrediction = new float[images * _latentSize];
    }

    /// <summary>Conditioning channels appended after the 4 latent channels, per image [N, E, h, w] (inpaint mask and
    /// masked-image latents, depth map, low-res image); empty for text-to-image.</summary>
    public float[] ExtraChannels { get; init; } = [];

    /// <summary>Called after each scheduler step with the call index and the latents (legacy inpainting blends here).</summary>
    public Action<int, Span<float>>? AfterStep { get; init; }

    /// <summary>The steps the user asked for; progress counts these rather than model calls (PNDM makes N+1 calls for N
    /// steps, second-order samplers two per step). 0: one step per call.</summary>
    public int StepsAsked { get; init; }

    /// <summary>Called with the call index once the UNet's inputs are written, before it runs (tests inspect the layout).</summary>
    internal Action<int, UNetRun>? BeforeUNet { get; init; }

    /// <summary>Called after each step with the call index, the guided model output and the latents (tests replay the run).</summary>
    internal Action<int, float[], float[]>? StepTrace { get; init; }

    /// <summary>Runs model calls <paramref name="startIndex"/> … end of the schedule on <paramref name="latents"/> in place.</summary>
    public int Run(Span<float> latents, int startIndex, NoiseFill? noise, GenerationObserver? observer, CancellationToken cancellationToken)
    {
        var timesteps = _scheduler.Timesteps;
        int total = timesteps.Count - startIndex;
        int extraPerImage = ExtraChannels.Length / _images;
        int samplePerImage = _latentSize + extraPerImage;
        // Progress in the user's steps: the calls this run makes, scaled by steps asked per call of the full schedule
        // (img2img starts part-way: 25 steps at strength 0.5 report 12, as diffusers' get_timesteps keeps 12).
        int reportedTotal = StepsAsked > 0 && total > 0 ? Math.Max(1, (int)Math.Round((double)total * StepsAsked / timesteps.Count)) : total;
        int reported = 0;
        long start = Stopwatch.GetTimestamp();
        var sample = _run.Sample;
        int halves = _guided ? 2 : 1;

        // The conditioning channels do not change between steps: written once, after each image's latent channels.
        for (int half = 0; half < halves && extraPerImage > 0; half++)
        {
            for (int n = 0; n < _images; n++)
            {
                sample.Write(ExtraChannels.AsSpan(n * extraPerImage, extraPerImage), (half * _images + n) * samplePerImage + _latentSize);
            }
        }

        // Device-resident runs (bound I/O with step graphs): guidance and the scheduler step run on the device; the
        // hooks that read latents or write extra channels per step keep a run on the host.
        using var device = _run.StepGraphs is { } graphs && extraPerImage == 0 && AfterStep is null && BeforeUNet is null
            && StepTrace is null && DeviceSteps.Supports(_scheduler) && total > 0 && DeviceSteps.Fits(_images, _latentSize, total)
            ? new DeviceSteps(graphs, _run.BoundBuffers!, _images, _latentSize, _guided, total)
            : null;
        DeviceStepJob[] jobs = device is null ? [] : [new(_scheduler, noise, 0, _images)];
        if (device is not null)
        {
            device.SetGuidance(0, _images, _guidance);
            device.Start(latents, jobs, startIndex);
        }

        for (int i = startIndex; i < timesteps.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (device is not null)
            {
                _run.SetTimestep(timesteps[i]);
                _run.RunResident();
                device.Step(jobs, i, timesteps.Count);
            }
            else
            {
                HostStep(latents, i, timesteps[i], halves, samplePerImage, noise);
            }

            int step = (int)((long)(i - startIndex + 1) * reportedTotal / total);
            if (step > reported)
            {
                reported = step;
                observer?.OnStep?.Invoke(new StepProgress(step, reportedTotal, Stopwatch.GetElapsedTime(start)));
            }
        }

        device?.ReadLatents(latents);
        return total;
    }

    /// <summary>One model call with the latents on the host: in to the UNet, out, guided and stepped here.</summary>
    private void HostStep(Span<float> latents, int i, double timestep, int halves, int samplePerImage, NoiseFill? noise)
    {
        var sample = _run.Sample;
        _scheduler.ScaleModelInput(latents, _scaled, i);
        for (int half = 0; half < halves; half++)
        {
            for (int n = 0; n < _images; n++)
            {
                sample.Write(_scaled.AsSpan(n * _latentSize, _latentSize), (half * _images + n) * samplePerImage);
            }
        }

        _run.SetTimestep(timestep);
        BeforeUNet?.Invoke(i, _run);
        _run.Run();
        _run.Output.Read(_prediction);

        ReadOnlySpan<float> modelOutput = _prediction;
        if (_guided)
        {
            // noise = uncond + scale · (cond − uncond)
            var uncond = _prediction.AsSpan(0, _guidedPrediction.Length);
            var cond = _prediction.AsSpan(_guidedPrediction.Length, _guidedPrediction.Length);
            TensorPrimitives.Subtract(cond, uncond, _guidedPrediction);
            TensorPrimitives.MultiplyAdd(_guidedPrediction, _guidance, uncond, _guidedPrediction);
            modelOutput = _guidedPrediction;
        }

        _scheduler.Step(modelOutput, i, latents, noise);
        StepTrace?.Invoke(i, modelOutput.ToArray(), latents.ToArray());
        AfterStep?.Invoke(i, latents);
    }
}
