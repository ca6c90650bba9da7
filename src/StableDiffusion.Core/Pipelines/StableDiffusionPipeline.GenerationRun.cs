using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;
using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Pipelines;

public sealed partial class StableDiffusionPipeline
{
    /// <summary>The bookkeeping of one generation: sizes, per-image noise, logs, stage timings, and the shared ending
    /// (decode, safety checker).</summary>
    private sealed class GenerationRun
    {
        private readonly StableDiffusionPipeline _pipeline;
        private readonly GenerationSettings _settings;
        private readonly GenerationObserver? _observer;
        private readonly Dictionary<string, double> _stages = [];
        private readonly List<string> _logs = [];
        private readonly double _onnxStart;

        /// <param name="defaultWidth">Output width when the request gives none (image tasks: the input's); null = native.</param>
        public GenerationRun(StableDiffusionPipeline pipeline, GenerationSettings settings, GenerationObserver? observer,
            int? defaultWidth = null, int? defaultHeight = null)
        {
            _pipeline = pipeline;
            _settings = settings;
            _observer = observer;
            _onnxStart = pipeline.OnnxSeconds();
            // A hires fix's run is its final size; its first pass is settings.Width×Height.
            Width = settings.HiresFix?.Width ?? settings.Width ?? defaultWidth ?? pipeline.Info.NativeWidth;
            Height = settings.HiresFix?.Height ?? settings.Height ?? defaultHeight ?? pipeline.Info.NativeHeight;
            int factor = pipeline._folder.LatentFactor;
            if (Width % factor != 0 || Height % factor != 0)
            {
                throw new ArgumentException($"width and height must be multiples of {factor}, got {Width}x{Height}.");
            }

            LatentWidth = Width / factor;
            LatentHeight = Height / factor;
            if (pipeline._folder.IsSynthetic)
            {
                Log($"model '{pipeline.Info.Name}' has random weights (synthetic): the images are noise");
            }
        }

        public int Width { get; }
        public int Height { get; }
        public int LatentWidth { get; }
        public int LatentHeight { get; }

        public void Log(string line)
        {
            _logs.Add(line);
            _observer?.OnLog?.Invoke(line);
        }

        public T Stage<T>(string name, Func<T> body) => StageClock.Time(_stages, name, body);

        /// <summary>Adds time measured outside <see cref="Stage{T}"/> (a batched denoise: the batch's wall time).</summary>
        public void AddStage(string name, double seconds) => _stages[name] = _stages.GetValueOrDefault(name) + seconds;

        /// <summary>The job's noise, in diffusers' draw order (initial latents, then any noise its scheduler asks for), from
        /// the request's source: per image (seed + k, so a batch member can be reproduced alone) or one generator for the
        /// batch (<see cref="GenerationSettings.NoiseBatching"/>).</summary>
        public BatchNoise CreateNoise() => new(_settings.Rng ?? RandomSource.Default, _settings.Seed, _settings.NumOutputs, _settings.NoiseBatching);

        /// <summary>VAE decode and safety check of every image; the watermark and encoding are left to
        /// <see cref="DecodedGeneration.Finish"/>.</summary>
        public DecodedGeneration Finish(float[] latents, string scheduler, int stepsRun, CancellationToken cancellationToken)
        {
            int images = _settings.NumOutputs;
            int perImage = latents.Length / images;
            var results = new DecodedImage[images];
            for (int k = 0; k < images; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var image = Stage("vae_decode", () => _pipeline._vaeDecoder.Decode(latents.AsSpan(k * perImage, perImage), LatentHeight, LatentWidth));
                results[k] = Check(k, image, scheduler);
            }

            return Result(results, stepsRun);
        }

        /// <summary>The device side of every image's end: the safety checker (an ONNX model, so it runs with the other
        /// sessions; black out when flagged) and the parameters text its PNG will carry.</summary>
        public DecodedImage Check(int k, RgbImage image, string scheduler)
        {
            bool nsfw = false;
            if (_pipeline._safetyChecker is { } checker && _settings.SafetyChecker != false)
            {
                nsfw = Stage("safety_checker", () => checker.CheckAndBlackOut(image));
                if (nsfw)
                {
                    Log($"image {k}: potential NSFW content detected; replaced by a black image");
                }
            }

            long seed = _settings.Seed + k;
            string parameters = GenerationParameters.Format(_settings, scheduler, seed, image.Width, image.Height,
                _settings.ModelName ?? _pipeline.Info.Name);
            return new DecodedImage(k, seed, image, nsfw, parameters);
        }

        public DecodedGeneration Result(DecodedImage[] images, int stepsRun) =>
            new(images, _stages, _pipeline.OnnxSeconds() - _onnxStart, stepsRun, _logs, _settings);
    }
}
