using Microsoft.Extensions.Options;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Generation;

/// <summary>The one validator every API surface uses: limits from config, sizes and tasks from the model.</summary>
public sealed class GenerationRequestValidator(ModelCatalog catalog, IOptionsMonitor<LimitsOptions> limits, JobStore store)
{
    // Replicate's stable-diffusion model defaults.
    public const int DefaultSteps = 50;
    public const double DefaultGuidanceScale = 7.5;
    public const double DefaultPromptStrength = 0.8;
    // diffusers' StableDiffusionUpscalePipeline: noise_level=20, max_noise_level=350 (Core checks the model's own).
    public const int DefaultNoiseLevel = 20;
    public const int MaxNoiseLevel = 350;
    public const int UpscaleFactor = 4;

    /// <summary>Validates <paramref name="input"/> for the model <paramref name="modelReference"/> (null = default model).</summary>
    public GenerationValidation Validate(string? modelReference, GenerationInput input, string modelField = "version")
    {
        var l = limits.CurrentValue;
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }
            list.Add(message);
        }

        var model = modelReference is null ? catalog.Default : catalog.Find(modelReference);
        if (model is null)
        {
            Add(modelField, $"unknown model '{modelReference}'; served: {string.Join(", ", catalog.Models.Select(m => m.FullName))}");
            return GenerationValidation.Invalid(errors, unknownModel: true);
        }
        var info = catalog.InfoOf(model);

        if (input.Prompt is null)
        {
            Add("prompt", "is required");
        }
        else if (input.Prompt.Length > l.MaxPromptLength)
        {
            Add("prompt", $"is {input.Prompt.Length} characters; at most {l.MaxPromptLength} are accepted");
        }
        if (input.NegativePrompt is { } negative && negative.Length > l.MaxPromptLength)
        {
            Add("negative_prompt", $"is {negative.Length} characters; at most {l.MaxPromptLength} are accepted");
        }

        var outputs = input.NumOutputs ?? 1;
        if (outputs < 1 || outputs > l.MaxOutputs)
        {
            Add("num_outputs", $"must be between 1 and {l.MaxOutputs}");
        }
        var steps = input.NumInferenceSteps ?? Math.Min(DefaultSteps, l.MaxSteps);
        if (steps < 1 || steps > l.MaxSteps)
        {
            Add("num_inference_steps", $"must be between 1 and {l.MaxSteps}");
        }
        var guidance = input.GuidanceScale ?? DefaultGuidanceScale;
        if (!double.IsFinite(guidance) || guidance < 0 || guidance > 50)
        {
            Add("guidance_scale", "must be between 0 and 50");
        }

        string? scheduler = null;
        if (input.Scheduler is { } requested)
        {
            scheduler = SchedulerFactory.Canonicalize(requested);
            if (scheduler is null)
            {
                Add("scheduler", $"unknown scheduler '{requested}'; one of {string.Join(", ", SchedulerFactory.Names)}");
            }
        }

        var seedGiven = input.Seed is not null;
        // Image k of a batch uses seed + k, so leave room for the batch.
        var seed = input.Seed ?? Random.Shared.Next();
        if (seed < 0 || seed > uint.MaxValue)
        {
            Add("seed", $"must be between 0 and {uint.MaxValue}");
        }

        string? rng = null;
        if (input.Rng is { } rngName)
        {
            rng = RandomSource.Canonicalize(rngName);
            if (rng is null)
            {
                Add("rng", $"unknown noise source '{rngName}'; one of {string.Join(", ", RandomSource.Names)}");
            }
            else if (rng == RandomSource.Numpy && seed + outputs - 1 > uint.MaxValue)
            {
                Add("seed", $"the numpy source takes seeds from 0 to {uint.MaxValue} (numpy's RandomState) and image k uses seed + k");
            }
        }

        string? sigmaSchedule = null;
        if (input.SigmaSchedule is { } schedule)
        {
            sigmaSchedule = schedule.Trim().ToLowerInvariant();
            var target = scheduler ?? info?.DefaultScheduler;
            if (sigmaSchedule is not ("karras" or "exponential"))
            {
                Add("sigma_schedule", "must be karras or exponential");
            }
            else if (target is not null && !SchedulerFactory.TakesSigmaSchedule(target))
            {
                Add("sigma_schedule", $"scheduler {target} has no {sigmaSchedule} sigmas; they apply to {string.Join(", ", SchedulerFactory.SigmaScheduleNames)}");
            }
        }

        var eta = input.Eta ?? 0.0;
        if (!double.IsFinite(eta) || eta < 0 || eta > 1)
        {
            Add("eta", "must be between 0 and 1");
        }

        var format = OutputFormat.Png;
        if (input.OutputFormat is { } formatName && !OutputFormats.TryParse(formatName, out format))
        {
            Add("output_format", $"must be one of {string.Join(", ", OutputFormats.Names)}");
        }

        var strength = input.PromptStrength ?? DefaultPromptStrength;
        if (input.PromptStrength is { } ps && (!double.IsFinite(ps) || ps < 0 || ps > 1))
        {
            Add("prompt_strength", "must be between 0 and 1");
        }
        var task = ChooseTask(model.Name, info, input, Add);
        var noiseLevel = input.NoiseLevel ?? DefaultNoiseLevel;
        if (task == GenerationTask.Upscale && (noiseLevel < 0 || noiseLevel > MaxNoiseLevel))
        {
            Add("noise_level", $"must be between 0 and {MaxNoiseLevel}");
        }

        // Images are decoded only once the request is otherwise sound: decoding is the expensive part.
        Core.Imaging.RgbImage? image = null, mask = null, depth = null;
        var tooLarge = false;
        if (errors.Count == 0)
        {
            var imageLimits = l.ImageLimits;
            Core.Imaging.RgbImage? DecodeField(string field, string? value)
            {
                if (value is null)
                {
                    return null;
                }
                try
                {
                    return ImageSource.Decode(value, field, imageLimits, store);
                }
                catch (Core.Imaging.ImageInputException e)
                {
                    Add(field, e.Detail);
                    tooLarge |= e.StatusHint == StatusCodes.Status413PayloadTooLarge;
                    return null;
                }
            }
            image = DecodeField("image", input.Image);
            mask = DecodeField("mask", input.Mask);
            depth = DecodeField("depth_image", input.DepthImage);
        }

        var (width, height) = (input.Width ?? info?.NativeWidth ?? 512, input.Height ?? info?.NativeHeight ?? 512);
        if (image is not null && task == GenerationTask.Upscale)
        {
            // Output = 4x the input rounded down to a multiple of 8 (Core's rule); the pixel limit bounds the output.
            (width, height) = (image.Width / 8 * 8 * UpscaleFactor, image.Height / 8 * 8 * UpscaleFactor);
            if (width == 0 || height == 0)
            {
                Add("image", $"is {image.Width}x{image.Height}; the upscaler needs at least 8x8");
            }
            else if ((long)width * height > l.MaxPixels)
            {
                Add("image", $"is {image.Width}x{image.Height}; upscaled 4x that is {width}x{height}, over the limit of {l.MaxPixels} pixels (Limits:MaxPixels)");
            }
        }
        else if (image is not null)
        {
            var (w, h) = DefaultSize(image.Width, image.Height, l);
            (width, height) = (input.Width ?? w, input.Height ?? h);
            if ((input.Width is null && w < 64) || (input.Height is null && h < 64))
            {
                Add("image", $"is {image.Width}x{image.Height}; the output takes its size, and at least 64x64 is needed (or set width and height)");
            }
        }
        if (task != GenerationTask.Upscale && !errors.ContainsKey("image"))
        {
            CheckSide("width", width, l.MaxWidth);
            CheckSide("height", height, l.MaxHeight);
            if (!errors.ContainsKey("width") && !errors.ContainsKey("height") && (long)width * height > l.MaxPixels)
            {
                Add("width", $"{width}x{height} is {(long)width * height} pixels; at most {l.MaxPixels} are accepted");
            }
        }
        void CheckSide(string field, int value, int max)
        {
            if (value < 64 || value > max)
            {
                Add(field, $"must be between 64 and {max}");
            }
            else if (value % 8 != 0)
            {
                Add(field, "must be a multiple of 8");
            }
        }

        if (errors.Count > 0)
        {
            return GenerationValidation.Invalid(errors, tooLarge: tooLarge);
        }
        return new GenerationValidation(new GenerationRequest
        {
            Model = model.Name,
            Task = task,
            Prompt = input.Prompt!,
            NegativePrompt = input.NegativePrompt ?? "",
            Width = width,
            Height = height,
            NumOutputs = outputs,
            Steps = steps,
            GuidanceScale = guidance,
            Scheduler = scheduler,
            Seed = seed,
            SeedGiven = seedGiven,
            Rng = rng,
            Eta = eta,
            SigmaSchedule = sigmaSchedule,
            OutputFormat = format,
            Image = image,
            Mask = mask,
            PromptStrength = strength,
            NoiseLevel = noiseLevel,
            DepthImage = depth,
        }, new Dictionary<string, string[]>());
    }

    /// <summary>The task the model's kind and the given inputs ask for; errors name the field that asks too much.</summary>
    private static GenerationTask ChooseTask(string modelName, ModelInfo? info, GenerationInput input, Action<string, string> add)
    {
        var channels = info?.UnetInChannels ?? 4;
        var offers = info is null ? "" : $"; it offers {string.Join(", ", info.Tasks.Select(Describe))}";
        void Cannot(string field, GenerationTask wanted) => add(field, $"model '{modelName}' cannot do {Describe(wanted)}{offers}");
        void Required(string field, GenerationTask task) => add(field, $"is required: model '{modelName}' does {Describe(task)}");

        GenerationTask task;
        switch (channels)
        {
            case 9:
                task = GenerationTask.Inpaint;
                if (input.Image is null) Required("image", task);
                if (input.Mask is null) Required("mask", task);
                break;
            case 5:
                task = GenerationTask.DepthToImage;
                if (input.Image is null) Required("image", task);
                if (input.DepthImage is null && info is { DepthEstimator: false })
                {
                    add("depth_image", $"is required: model '{modelName}' has no depth_estimator/ to estimate depth from the image");
                }
                if (input.Mask is not null) Cannot("mask", GenerationTask.Inpaint);
                break;
            case 7:
                task = GenerationTask.Upscale;
                if (input.Image is null) Required("image", task);
                if (input.Mask is not null) Cannot("mask", GenerationTask.Inpaint);
                break;
            default:
                task = input.Image is null ? GenerationTask.TextToImage
                    : input.Mask is null ? GenerationTask.ImageToImage : GenerationTask.Inpaint;
                if (input.Mask is not null && input.Image is null)
                {
                    add("mask", "needs an image to inpaint");
                }
                else if (info is not null && !info.Tasks.Contains(task))
                {
                    Cannot(task == GenerationTask.Inpaint ? "mask" : "image", task);
                }
                break;
        }
        if (input.DepthImage is not null && task != GenerationTask.DepthToImage)
        {
            Cannot("depth_image", GenerationTask.DepthToImage);
        }
        if (input.NoiseLevel is not null && task != GenerationTask.Upscale)
        {
            Cannot("noise_level", GenerationTask.Upscale);
        }
        return task;
    }

    /// <summary>The input's own size rounded down to a multiple of 8 (diffusers' default), scaled down to fit the limits.</summary>
    private static (int Width, int Height) DefaultSize(int imageWidth, int imageHeight, LimitsOptions l)
    {
        var scale = Math.Min(1.0, Math.Min(Math.Sqrt((double)l.MaxPixels / ((long)imageWidth * imageHeight)),
            Math.Min((double)l.MaxWidth / imageWidth, (double)l.MaxHeight / imageHeight)));
        return ((int)(imageWidth * scale) / 8 * 8, (int)(imageHeight * scale) / 8 * 8);
    }

    public static string Describe(GenerationTask task) => task switch
    {
        GenerationTask.TextToImage => "text-to-image",
        GenerationTask.ImageToImage => "image-to-image",
        GenerationTask.Inpaint => "inpainting",
        GenerationTask.Upscale => "upscaling",
        GenerationTask.DepthToImage => "depth-to-image",
        _ => task.ToString(),
    };
}
