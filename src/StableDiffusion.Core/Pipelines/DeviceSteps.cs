using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Pipelines;

/// <summary>One job's scheduler and noise in a device-stepped run, and which images of the batch are its.</summary>
internal readonly record struct DeviceStepJob(IScheduler Scheduler, NoiseFill? Noise, int FirstImage, int Images);

/// <summary>
/// Classifier-free guidance and the scheduler step on the device, so a denoising run's latents never come back to the
/// host between UNet calls: the host sends a timestep and a few hundred coefficients per step, the device does the
/// rest; the latents come back once, at the end.
/// </summary>
/// <remarks>
/// <para>Every scheduler here steps linearly: each new sample is a fixed combination (one weight per tensor, the same
/// for every element) of the starting latents, the guided model outputs so far and the noise drawn so far; only the
/// weights depend on the step. So the run keeps those tensors on the device — its <em>basis</em>, one slot each —
/// and the host runs the job's own scheduler, unchanged, on coefficient vectors instead of latents: the "model output"
/// of call i is the unit vector of its slot, the "noise" of a draw the unit vector of a new slot (the real noise is
/// drawn from the job's generator at that moment, exactly as the host loop draws it, and uploaded). What the
/// scheduler writes back are the weights of the new sample over the basis, which <see cref="LatentStepGraphs"/>
/// turns into the latents and the UNet's next input. Schedulers that clip the predicted sample are not linear and
/// stay on the host (<see cref="Supports"/>).</para>
/// <para>The basis holds 1 + calls + noise draws slots of [N, C, h, w] float32: 101 slots × 64 KiB per image at
/// 512², 50 steps with an ancestral sampler (6.6 MiB per image).</para>
/// </remarks>
internal sealed class DeviceSteps : IDisposable
{
    private readonly LatentStepGraphs _graphs;
    private readonly BoundUNet _unet;
    private readonly int _images;
    private readonly long _latentSize;
    private readonly bool _guided;
    private readonly int _capacity;
    private readonly BoundTensor _basis;
    private readonly BoundTensor _latents;
    private readonly float[] _scale;
    private readonly OrtValue _scaleValue;
    private readonly OrtValue _halves;
    private readonly OrtValue _prediction;
    private readonly OrtValue _sample;
    private readonly OrtValue _latentsValue;
    private readonly float[] _coefficients;
    private readonly float[] _unit;
    private readonly float[] _scaledWeights;
    private readonly List<float[]> _drawn = [];
    private float[][] _weights = [];
    private int _slots;

    public DeviceSteps(LatentStepGraphs graphs, BoundUNet unet, int images, int latentSize, bool guided, int calls)
    {
        _graphs = graphs;
        _unet = unet;
        _images = images;
        _latentSize = latentSize;
        _guided = guided;
        // Slot 0 the starting latents, one per model call, at most one noise draw per call (checked as drawn).
        _capacity = 1 + 2 * calls;
        var memory = unet.Memory;
        int halves = guided ? 2 : 1;
        try
        {
            _basis = memory.Allocate(TensorElementType.Float, [_capacity, images, latentSize]);
            _latents = memory.Allocate(TensorElementType.Float, [images, latentSize]);
            _latentsValue = _latents.View(0, TensorElementType.Float, [images, latentSize]);
            _prediction = unet.Output.View(0, unet.OutputType, [halves, images, latentSize]);
            _sample = unet.Sample.View(0, unet.SampleType, [halves, images, latentSize]);
            _scale = new float[images];
            _scaleValue = OrtValue.CreateTensorValueFromMemory(_scale, [1, images, 1]);
            _halves = OrtValue.CreateTensorValueFromMemory(new long[] { halves, 1, 1 }, [3]);
        }
        catch
        {
            Dispose();
            throw;
        }

        _coefficients = new float[2 * _capacity];
        _unit = new float[_capacity];
        _scaledWeights = new float[_capacity];
    }

    /// <summary>The most device memory one run's basis may take; a bigger run steps on the host instead.</summary>
    public const long MaxBasisBytes = 1L << 30;

    /// <summary>Whether <paramref name="scheduler"/> steps linearly (clipping the predicted sample does not).</summary>
    public static bool Supports(IScheduler scheduler) => !scheduler.Config.ClipSample;

    /// <summary>Whether a run of <paramref name="calls"/> model calls on <paramref name="images"/> latents of
    /// <paramref name="latentSize"/> floats fits <see cref="MaxBasisBytes"/> (the server's limits, 1024² × 8 images ×
    /// 150 steps, take 602 MiB).</summary>
    public static bool Fits(int images, long latentSize, int calls) =>
        (1 + 2L * calls) * images * latentSize * sizeof(float) <= MaxBasisBytes;

    /// <summary>Sets each image's guidance scale (images of one job share theirs).</summary>
    public void SetGuidance(int firstImage, int images, float scale) => _scale.AsSpan(firstImage, images).Fill(scale);

    /// <summary>Uploads the starting latents [N, C, h, w] as slot 0 and writes the UNet's first input for call
    /// <paramref name="startIndex"/>.</summary>
    public void Start(ReadOnlySpan<float> latents, IReadOnlyList<DeviceStepJob> jobs, int startIndex)
    {
        _basis.UploadAt(0, MemoryMarshal.AsBytes(latents));
        _slots = 1;
        _weights = new float[jobs.Count][];
        for (int j = 0; j < jobs.Count; j++)
        {
            _weights[j] = new float[_capacity];
            _weights[j][0] = 1f;
        }

        _unet.Memory.Synchronize();
        Combine(jobs[0].Scheduler, startIndex);
    }

    /// <summary>After the UNet ran call <paramref name="index"/>: guides its prediction into a new slot, steps every
    /// job's scheduler on the weights, uploads the noise they drew, and writes the new latents and the next UNet input.</summary>
    public void Step(IReadOnlyList<DeviceStepJob> jobs, int index, int scheduleCalls)
    {
        int slot = _slots;
        Reserve(slot + 1);
        using (var guided = _basis.View(SlotBytes(slot), TensorElementType.Float, [1, _images, _latentSize]))
        {
            var guide = _guided ? _graphs.GuideTwo : _graphs.GuideOne;
            if (_guided)
            {
                guide.Run(["prediction", "scale"], [_prediction, _scaleValue], ["guided"], [guided]);
            }
            else
            {
                guide.Run(["prediction"], [_prediction], ["guided"], [guided]);
            }
        }

        Array.Clear(_unit);
        _unit[slot] = 1f;
        int draws = -1;
        for (int j = 0; j < jobs.Count; j++)
        {
            var job = jobs[j];
            int drawn = 0;
            NoiseFill? noise = job.Noise is null ? null : destination =>
            {
                // The real draw, from the job's generator at the moment the host loop would draw it, into a new slot.
                int noiseSlot = slot + 1 + drawn;
                Reserve(noiseSlot + 1);
                if (drawn == _drawn.Count)
                {
                    _drawn.Add(new float[_images * _latentSize]);
                }

                job.Noise(_drawn[drawn].AsSpan((int)(job.FirstImage * _latentSize), (int)(job.Images * _latentSize)));
                destination.Clear();
                destination[noiseSlot] = 1f;
                drawn++;
            };
            job.Scheduler.Step(_unit, index, _weights[j], noise);
            if (draws >= 0 && (drawn != draws || !_weights[j].AsSpan().SequenceEqual(_weights[0])))
            {
                throw new InvalidOperationException($"Scheduler {job.Scheduler.Name} stepped differently for two jobs of one batch.");
            }

            draws = drawn;
        }

        for (int d = 0; d < draws; d++)
        {
            _basis.UploadAt(SlotBytes(slot + 1 + d), MemoryMarshal.AsBytes(_drawn[d].AsSpan()));
        }

        _slots = slot + 1 + Math.Max(draws, 0);
        if (draws > 0)
        {
            _unet.Memory.Synchronize();
        }

        Combine(jobs[0].Scheduler, index + 1 < scheduleCalls ? index + 1 : -1);
    }

    /// <summary>Downloads the latents [N, C, h, w] (once, at the end of the run).</summary>
    public void ReadLatents(Span<float> destination) => _latents.Download(MemoryMarshal.AsBytes(destination));

    /// <summary>The run's state for the images in <paramref name="keep"/> (first image, count), for a batch that a
    /// canceled job left: the basis comes back to the host once and goes to <paramref name="next"/> compacted, which
    /// then writes the UNet input of call <paramref name="index"/> for the <paramref name="jobs"/> left.</summary>
    public void MoveTo(DeviceSteps next, IReadOnlyList<(int FirstImage, int Images)> keep, IReadOnlyList<DeviceStepJob> jobs, int index)
    {
        var row = new float[_images * _latentSize];
        var kept = new float[next._images * next._latentSize];
        for (int k = 0; k < _slots; k++)
        {
            _basis.DownloadAt(SlotBytes(k), MemoryMarshal.AsBytes(row.AsSpan()));
            long at = 0;
            foreach (var (first, images) in keep)
            {
                row.AsSpan((int)(first * _latentSize), (int)(images * _latentSize)).CopyTo(kept.AsSpan((int)at));
                at += images * _latentSize;
            }

            next._basis.UploadAt(next.SlotBytes(k), MemoryMarshal.AsBytes(kept.AsSpan()));
        }

        next._slots = _slots;
        next._weights = new float[jobs.Count][];
        for (int j = 0; j < jobs.Count; j++)
        {
            next._weights[j] = (float[])_weights[0].Clone();
        }

        next._unet.Memory.Synchronize();
        next.Combine(jobs[0].Scheduler, index);
    }

    /// <summary>Writes the UNet's input for call <paramref name="nextIndex"/> (−1: none) and the latents.</summary>
    private void Combine(IScheduler scheduler, int nextIndex)
    {
        var weights = _weights[0];
        int k = _slots;
        weights.AsSpan(0, k).CopyTo(_coefficients);
        var input = _coefficients.AsSpan(k, k);
        if (nextIndex >= 0)
        {
            // scale_model_input is linear too: it maps the sample's weights to the input's.
            scheduler.ScaleModelInput(weights, _scaledWeights, nextIndex);
            _scaledWeights.AsSpan(0, k).CopyTo(input);
        }
        else
        {
            weights.AsSpan(0, k).CopyTo(input);
        }

        using var basis = _basis.View(0, TensorElementType.Float, [k, _images, _latentSize]);
        using var coefficients = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _coefficients.AsMemory(0, 2 * k), [2, k, 1, 1]);
        _graphs.Combine.Run(["basis", "coefficients", "halves"], [basis, coefficients, _halves], ["latents", "sample"], [_latentsValue, _sample]);
    }

    private long SlotBytes(int slot) => slot * _images * _latentSize * sizeof(float);

    private void Reserve(int slots)
    {
        if (slots > _capacity)
        {
            throw new InvalidOperationException($"A device-stepped run holds {_capacity} tensors; the scheduler drew more noise than one per call.");
        }
    }

    public void Dispose()
    {
        _latentsValue?.Dispose();
        _prediction?.Dispose();
        _sample?.Dispose();
        _scaleValue?.Dispose();
        _halves?.Dispose();
        _basis?.Dispose();
        _latents?.Dispose();
    }
}
