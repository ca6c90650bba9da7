using Microsoft.Extensions.Options;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Schedulers;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Generation;

/// <summary>The one validator every API surface uses: limits from config, sizes and tasks from the model.</summary>
public sealed class GenerationRequestValidator(ModelCatalog catalog, IOptionsMonitor<LimitsOptions> limits)
{
    // Replicate's stable-diffusion model defaults.
    public const int DefaultSteps = 50;
    public const double DefaultGuidanceScale = 7.5;
    public const double DefaultPromptStrength = 0.8;

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

        var width = input.Width ?? info?.NativeWidth ?? 512;
        var height = input.Height ?? info?.NativeHeight ?? 512;
        CheckSide("width", width, l.MaxWidth);
        CheckSide("height", height, l.MaxHeight);
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
        if (!errors.ContainsKey("width") && !errors.ContainsKey("height") && (long)width * height > l.MaxPixels)
        {
            Add("width", $"{width}x{height} is {(long)width * height} pixels; at most {l.MaxPixels} are accepted");
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

        var format = OutputFormat.Png;
        if (input.OutputFormat is { } formatName && !OutputFormats.TryParse(formatName, out format))
        {
            Add("output_format", $"must be one of {string.Join(", ", OutputFormats.Names)}");
        }

        var task = GenerationTask.TextToImage;
        var strength = input.PromptStrength ?? DefaultPromptStrength;
        if (input.PromptStrength is { } ps && (!double.IsFinite(ps) || ps < 0 || ps > 1))
        {
            Add("prompt_strength", "must be between 0 and 1");
        }
        Core.Imaging.RgbImage? image = null, mask = null;
        if (input.Mask is not null && input.Image is null)
        {
            Add("mask", "needs an image to inpaint");
        }
        if (input.Image is not null)
        {
            task = input.Mask is null ? GenerationTask.ImageToImage : GenerationTask.Inpaint;
            if (info is not null && !info.Tasks.Contains(task))
            {
                var field = task == GenerationTask.Inpaint ? "mask" : "image";
                Add(field, $"model '{model.Name}' cannot do {Describe(task)}; it offers {string.Join(", ", info.Tasks.Select(Describe))}");
            }
            else
            {
                image = ImageInput.TryDecode(input.Image, l.MaxImagePixels, out var imageError);
                if (imageError is not null)
                {
                    Add("image", imageError);
                }
                if (input.Mask is not null)
                {
                    mask = ImageInput.TryDecode(input.Mask, l.MaxImagePixels, out var maskError);
                    if (maskError is not null)
                    {
                        Add("mask", maskError);
                    }
                    else if (image is not null && mask is not null && (mask.Width != image.Width || mask.Height != image.Height))
                    {
                        Add("mask", $"is {mask.Width}x{mask.Height}; it must match the image's {image.Width}x{image.Height}");
                    }
                }
            }
        }

        if (errors.Count > 0)
        {
            return GenerationValidation.Invalid(errors);
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
            OutputFormat = format,
            Image = image,
            Mask = mask,
            PromptStrength = strength,
        }, new Dictionary<string, string[]>());
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
