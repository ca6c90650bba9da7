using Microsoft.Extensions.Options;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Generation;

/// <summary>The one validator every API surface uses: limits from config, sizes and tasks from the model.</summary>
internal sealed class GenerationRequestValidator(ModelCatalog catalog, IOptionsMonitor<LimitsOptions> limits, UploadedFiles uploads)
{
    /// <summary>The scalar fields, checked (or defaulted) before the task and the images.</summary>
    private sealed record Scalars(int Outputs, int Steps, double Guidance, string? Scheduler, long Seed, OutputFormat Format, double Strength, int Quality);

    private sealed record Images(RgbImage? Image, RgbImage? Mask, RgbImage? Depth);

    /// <summary>The noise fields: source, DDIM's η, Karras/exponential sigmas.</summary>
    private sealed record Noise(string? Rng, double Eta, string? SigmaSchedule);

    /// <summary>Validates <paramref name="input"/> for the model <paramref name="modelReference"/> (null = default model).</summary>
    public GenerationValidation Validate(string? modelReference, GenerationInput input, string modelField = "version")
    {
        var l = limits.CurrentValue;
        var errors = new FieldErrors();
        var model = modelReference is null ? catalog.Default : catalog.Find(modelReference);
        if (model is null)
        {
            errors.Add(modelField, $"unknown model '{modelReference}'; served: {string.Join(", ", catalog.Models.Select(m => m.FullName))}");
            return GenerationValidation.Invalid(errors, unknownModel: true);
        }
        var info = catalog.InfoOf(model);
        var scalars = CheckScalars(input, l, errors);
        var noise = CheckNoise(input, scalars, info, errors);
        var task = ChooseTask(model.Name, info, input, errors.Add);
        var noiseLevel = input.NoiseLevel ?? GenerationDefaults.NoiseLevel;
        if (task == GenerationTask.Upscale && (noiseLevel < 0 || noiseLevel > GenerationDefaults.MaxNoiseLevel))
        {
            errors.Add("noise_level", $"must be between 0 and {GenerationDefaults.MaxNoiseLevel}");
        }
        // Images are decoded only once the request is otherwise sound: decoding is the expensive part.
        var images = errors.Count == 0 ? DecodeImages(input, l.ImageLimits, errors) : new Images(null, null, null);
        var (width, height) = OutputSize(input, info, images.Image, task, l, errors);
        if (errors.Count > 0)
        {
            return GenerationValidation.Invalid(errors);
        }
        var settings = new GenerationSettings
        {
            Task = task,
            Prompt = input.Prompt!,
            NegativePrompt = input.NegativePrompt ?? "",
            // The upscaler's output size is 4x its input; Core refuses an explicit size for it.
            Width = task == GenerationTask.Upscale ? null : width,
            Height = task == GenerationTask.Upscale ? null : height,
            Steps = scalars.Steps,
            GuidanceScale = scalars.Guidance,
            Scheduler = scalars.Scheduler,
            Seed = scalars.Seed,
            Rng = noise.Rng,
            Eta = noise.Eta,
            SigmaSchedule = noise.SigmaSchedule,
            NumOutputs = scalars.Outputs,
            ModelName = model.Name,
            Image = images.Image,
            Mask = images.Mask,
            PromptStrength = scalars.Strength,
            NoiseLevel = noiseLevel,
            DepthImage = images.Depth,
            OutputFormat = scalars.Format,
            OutputQuality = scalars.Quality,
        };
        var request = new GenerationRequest
        {
            Model = model.Name, Settings = settings, Width = width, Height = height, SeedGiven = input.Seed is not null,
        };
        return new GenerationValidation(request, new Dictionary<string, string[]>());
    }

    private static Scalars CheckScalars(GenerationInput input, LimitsOptions l, FieldErrors errors)
    {
        if (input.Prompt is null)
        {
            errors.Add("prompt", "is required");
        }
        else if (input.Prompt.Length > l.MaxPromptLength)
        {
            errors.Add("prompt", $"is {input.Prompt.Length} characters; at most {l.MaxPromptLength} are accepted");
        }
        if (input.NegativePrompt is { } negative && negative.Length > l.MaxPromptLength)
        {
            errors.Add("negative_prompt", $"is {negative.Length} characters; at most {l.MaxPromptLength} are accepted");
        }
        var outputs = input.NumOutputs ?? 1;
        if (outputs < 1 || outputs > l.MaxOutputs)
        {
            errors.Add("num_outputs", $"must be between 1 and {l.MaxOutputs}");
        }
        var steps = input.NumInferenceSteps ?? Math.Min(GenerationDefaults.Steps, l.MaxSteps);
        if (steps < 1 || steps > l.MaxSteps)
        {
            errors.Add("num_inference_steps", $"must be between 1 and {l.MaxSteps}");
        }
        var guidance = input.GuidanceScale ?? GenerationDefaults.GuidanceScale;
        if (!double.IsFinite(guidance) || guidance < 0 || guidance > 50)
        {
            errors.Add("guidance_scale", "must be between 0 and 50");
        }
        var scheduler = CheckScheduler(input.Scheduler, errors);
        // Image k of a batch uses seed + k, so leave room for the batch.
        var seed = input.Seed ?? Random.Shared.Next();
        if (seed < 0 || seed > uint.MaxValue)
        {
            errors.Add("seed", $"must be between 0 and {uint.MaxValue}");
        }
        var format = OutputFormat.Png;
        if (input.OutputFormat is { } formatName && !OutputFormats.TryParse(formatName, out format))
        {
            errors.Add("output_format", $"must be one of {string.Join(", ", OutputFormats.Names)}");
        }
        if (input.PromptStrength is { } ps && (!double.IsFinite(ps) || ps < 0 || ps > 1))
        {
            errors.Add("prompt_strength", "must be between 0 and 1");
        }
        var quality = input.OutputQuality ?? ImageEncoder.DefaultQuality;
        if (quality is < 1 or > 100)
        {
            errors.Add("output_quality", "must be between 1 and 100");
        }
        return new Scalars(outputs, steps, guidance, scheduler, seed, format, input.PromptStrength ?? GenerationDefaults.PromptStrength, quality);
    }

    private static Noise CheckNoise(GenerationInput input, Scalars scalars, ModelInfo? info, FieldErrors errors)
    {
        string? rng = null;
        if (input.Rng is { } rngName)
        {
            rng = RandomSource.Canonicalize(rngName);
            if (rng is null)
            {
                errors.Add("rng", $"unknown noise source '{rngName}'; one of {string.Join(", ", RandomSource.Names)}");
            }
            else if (rng == RandomSource.Numpy && scalars.Seed + scalars.Outputs - 1 > uint.MaxValue)
            {
                errors.Add("seed", $"the numpy source takes seeds from 0 to {uint.MaxValue} (numpy's RandomState) and image k uses seed + k");
            }
        }

        string? sigmaSchedule = null;
        if (input.SigmaSchedule is { } schedule)
        {
            sigmaSchedule = ScheduleTypes.Find(schedule);
            var target = scalars.Scheduler ?? info?.DefaultScheduler;
            if (sigmaSchedule is null)
            {
                errors.Add("sigma_schedule", $"must be one of {string.Join(", ", ScheduleTypes.All.Select(a => a.Name))}");
            }
            else if (sigmaSchedule == "automatic")
            {
                sigmaSchedule = null;
            }
            else if (target is not null && !SchedulerFactory.TakesScheduleType(target))
            {
                errors.Add("sigma_schedule", $"scheduler {target} runs no {sigmaSchedule} sigmas; they apply to {string.Join(", ", SchedulerFactory.SigmaScheduleNames)}, K_EULER_ANCESTRAL");
            }
        }

        var eta = input.Eta ?? 0.0;
        if (!double.IsFinite(eta) || eta < 0 || eta > 1)
        {
            errors.Add("eta", "must be between 0 and 1");
        }

        return new Noise(rng, eta, sigmaSchedule);
    }

    private static string? CheckScheduler(string? requested, FieldErrors errors)
    {
        if (requested is null)
        {
            return null;
        }
        var scheduler = SchedulerFactory.Canonicalize(requested);
        if (scheduler is null)
        {
            errors.Add("scheduler", $"unknown scheduler '{requested}'; one of {string.Join(", ", SchedulerFactory.Names)}");
        }
        return scheduler;
    }

    private Images DecodeImages(GenerationInput input, ImageLimits imageLimits, FieldErrors errors)
    {
        RgbImage? Decode(string field, string? value, byte[]? bytes)
        {
            try
            {
                return bytes is not null ? ImageDecoder.Decode(bytes, field, imageLimits)
                    : value is not null ? ImageSource.Decode(value, field, imageLimits, uploads)
                    : null;
            }
            catch (ImageInputException e)
            {
                errors.Add(field, e.Detail);
                errors.TooLarge |= e.StatusHint == StatusCodes.Status413PayloadTooLarge;
                return null;
            }
        }
        return new Images(Decode("image", input.Image, input.ImageBytes), Decode("mask", input.Mask, input.MaskBytes),
            Decode("depth_image", input.DepthImage, null));
    }

    /// <summary>The output size: asked for, the input image's, or the model's native one; checked against the limits.</summary>
    private static (int Width, int Height) OutputSize(GenerationInput input, ModelInfo? info, RgbImage? image, GenerationTask task,
        LimitsOptions l, FieldErrors errors)
    {
        // width/height, size or aspect_ratio; a range error blames the field the size came from.
        var asked = RequestedSize.Resolve(input, info, errors);
        var (width, height) = (asked.Width ?? info?.NativeWidth ?? 512, asked.Height ?? info?.NativeHeight ?? 512);
        if (image is not null && task == GenerationTask.Upscale)
        {
            // Output = 4x the input rounded down to a multiple of 8 (Core's rule); the pixel limit bounds the output.
            (width, height) = (image.Width / 8 * 8 * GenerationDefaults.UpscaleFactor, image.Height / 8 * 8 * GenerationDefaults.UpscaleFactor);
            if (width == 0 || height == 0)
            {
                errors.Add("image", $"is {image.Width}x{image.Height}; the upscaler needs at least 8x8");
            }
            else if ((long)width * height > l.MaxPixels)
            {
                errors.Add("image", $"is {image.Width}x{image.Height}; upscaled 4x that is {width}x{height}, over the limit of {l.MaxPixels} pixels (Limits:MaxPixels)");
            }
        }
        else if (image is not null)
        {
            var (w, h) = DefaultSize(image.Width, image.Height, l);
            (width, height) = (asked.Width ?? w, asked.Height ?? h);
            if ((asked.Width is null && w < 64) || (asked.Height is null && h < 64))
            {
                errors.Add("image", $"is {image.Width}x{image.Height}; the output takes its size, and at least 64x64 is needed (or set width and height)");
            }
        }
        if (task != GenerationTask.Upscale && !errors.Has("image") && !errors.Has(asked.WidthField) && !errors.Has(asked.HeightField))
        {
            CheckSide(asked.WidthField, "width", width, l.MaxWidth, errors);
            CheckSide(asked.HeightField, "height", height, l.MaxHeight, errors);
            if (!errors.Has(asked.WidthField) && !errors.Has(asked.HeightField) && (long)width * height > l.MaxPixels)
            {
                errors.Add(asked.WidthField, $"{width}x{height} is {(long)width * height} pixels; at most {l.MaxPixels} are accepted");
            }
        }
        return (width, height);
    }

    /// <param name="field">The field blamed: the side itself, or size/aspect_ratio when the side came from one.</param>
    private static void CheckSide(string field, string side, int value, int max, FieldErrors errors)
    {
        var subject = field == side ? "" : $"gives a {side} of {value}, which ";
        if (value < 64 || value > max)
        {
            errors.Add(field, $"{subject}must be between 64 and {max}");
        }
        else if (value % 8 != 0)
        {
            errors.Add(field, $"{subject}must be a multiple of 8");
        }
    }

    /// <summary>The task the model's kind and the given inputs ask for; errors name the field that asks too much.</summary>
    private static GenerationTask ChooseTask(string modelName, ModelInfo? info, GenerationInput input, Action<string, string> add)
    {
        var channels = info?.UnetInChannels ?? 4;
        var hasImage = input.Image is not null || input.ImageBytes is not null;
        var hasMask = input.Mask is not null || input.MaskBytes is not null;
        var offers = info is null ? "" : $"; it offers {string.Join(", ", info.Tasks.Select(Describe))}";
        void Cannot(string field, GenerationTask wanted) => add(field, $"model '{modelName}' cannot do {Describe(wanted)}{offers}");
        void Required(string field, GenerationTask task) => add(field, $"is required: model '{modelName}' does {Describe(task)}");

        GenerationTask task;
        switch (channels)
        {
            case 9:
                task = GenerationTask.Inpaint;
                if (!hasImage) Required("image", task);
                if (!hasMask) Required("mask", task);
                break;
            case 5:
                task = GenerationTask.DepthToImage;
                if (!hasImage) Required("image", task);
                if (input.DepthImage is null && info is { DepthEstimator: false })
                {
                    add("depth_image", $"is required: model '{modelName}' has no depth_estimator/ to estimate depth from the image");
                }
                if (hasMask) Cannot("mask", GenerationTask.Inpaint);
                break;
            case 7:
                task = GenerationTask.Upscale;
                if (!hasImage) Required("image", task);
                if (hasMask) Cannot("mask", GenerationTask.Inpaint);
                break;
            default:
                task = !hasImage ? GenerationTask.TextToImage
                    : !hasMask ? GenerationTask.ImageToImage : GenerationTask.Inpaint;
                if (hasMask && !hasImage)
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
