using System.Text.Json.Nodes;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Randomness;
using StableDiffusion.Core.Schedulers;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>Cog-style OpenAPI schema of a model version: the Input and Output schemas clients render forms from.</summary>
internal static class ModelSchema
{
    public static JsonObject Build(ModelInfo? info, LimitsOptions limits)
    {
        var properties = Properties(info, limits);
        AddBounds(properties, limits);
        var required = KeepTaskFields(properties, info);
        return new JsonObject
        {
            ["openapi"] = "3.0.2",
            ["info"] = new JsonObject { ["title"] = "Cog", ["version"] = "0.1.0" },
            ["paths"] = new JsonObject(),
            ["components"] = new JsonObject
            {
                ["schemas"] = new JsonObject
                {
                    ["Input"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["title"] = "Input",
                        ["required"] = Strings(required),
                        ["properties"] = properties,
                    },
                    ["Output"] = new JsonObject
                    {
                        ["type"] = "array",
                        ["title"] = "Output",
                        ["items"] = new JsonObject { ["type"] = "string", ["format"] = "uri" },
                    },
                },
            },
        };
    }

    /// <summary>Every input field with its title, description, default and order.</summary>
    private static JsonObject Properties(ModelInfo? info, LimitsOptions limits)
    {
        var width = info?.NativeWidth ?? 512;
        var height = info?.NativeHeight ?? 512;
        var order = 0;
        JsonObject Property(string title, string type, string description, JsonNode? @default = null)
        {
            var p = new JsonObject { ["type"] = type, ["title"] = title, ["description"] = description, ["x-order"] = order++ };
            if (@default is not null)
            {
                p["default"] = @default;
            }
            return p;
        }
        return new JsonObject
        {
            ["prompt"] = Property("Prompt", "string", "Input prompt"),
            ["negative_prompt"] = Property("Negative Prompt", "string", "Specify things to not see in the output"),
            ["width"] = Property("Width", "integer", "Width of output image, a multiple of 8", width),
            ["height"] = Property("Height", "integer", "Height of output image, a multiple of 8", height),
            ["size"] = Property("Size", "string", "Instead of width and height: WIDTHxHEIGHT, e.g. 768x512"),
            ["aspect_ratio"] = Property("Aspect Ratio", "string",
                $"Instead of width and height: W:H, e.g. 16:9, at about the native {width}x{height} pixel count, each side rounded to a multiple of {Math.Max(8, info?.LatentFactor ?? 8)}"),
            ["num_outputs"] = Property("Num Outputs", "integer", "Number of images to output", 1),
            ["num_inference_steps"] = Property("Num Inference Steps", "integer", "Number of denoising steps", Math.Min(GenerationDefaults.Steps, limits.MaxSteps)),
            ["guidance_scale"] = Property("Guidance Scale", "number", "Scale for classifier-free guidance", GenerationDefaults.GuidanceScale),
            ["scheduler"] = Property("Scheduler", "string", "Choose a scheduler; the model's own when absent"),
            ["seed"] = Property("Seed", "integer", "Random seed. Leave blank to randomize the seed"),
            ["sigma_schedule"] = Property("Sigma Schedule", "string", "an A1111 schedule type (karras, exponential, sgm_uniform, …) for the σ-schedule schedulers; the model's own when absent"),
            ["rng"] = Property("Rng", "string", "Noise source: cpu = torch.Generator('cpu') as diffusers, nv = AUTOMATIC1111's NV/GPU, numpy = diffusers' ONNX pipelines, xoshiro = this server's own", RandomSource.Default),
            ["eta"] = Property("Eta", "number", "DDIM eta: 0 is deterministic, 1 adds DDPM-like noise (DDIM only)", 0.0),
            ["output_format"] = Property("Output Format", "string", "Format of the output images", "png"),
            ["output_quality"] = Property("Output Quality", "integer", "Quality of webp and jpg outputs, 1..100; png ignores it", Core.Imaging.ImageEncoder.DefaultQuality),
            ["image"] = Property("Image", "string", "Input image for img2img or inpaint mode: a data URI, or the URL of a file uploaded with POST /v1/files"),
            ["mask"] = Property("Mask", "string", "Input mask for inpaint mode; white areas are repainted (data URI or uploaded file URL)"),
            ["prompt_strength"] = Property("Prompt Strength", "number", "Prompt strength with an input image; 1.0 destroys the image's information", GenerationDefaults.PromptStrength),
            ["noise_level"] = Property("Noise Level", "integer", "Noise added to the low-resolution image before upscaling", GenerationDefaults.NoiseLevel),
            ["depth_image"] = Property("Depth Image", "string", "Grey depth map, white = near (data URI or uploaded file URL); estimated from the image when absent"),
        };
    }

    private static void AddBounds(JsonObject properties, LimitsOptions limits)
    {
        properties["width"]!["minimum"] = 64;
        properties["width"]!["maximum"] = limits.MaxWidth;
        properties["width"]!["multipleOf"] = 8;
        properties["height"]!["minimum"] = 64;
        properties["height"]!["maximum"] = limits.MaxHeight;
        properties["height"]!["multipleOf"] = 8;
        properties["size"]!["pattern"] = "^[0-9]+[xX][0-9]+$";
        properties["aspect_ratio"]!["pattern"] = "^[0-9.]+:[0-9.]+$";
        properties["output_quality"]!["minimum"] = 1;
        properties["output_quality"]!["maximum"] = 100;
        properties["num_outputs"]!["minimum"] = 1;
        properties["num_outputs"]!["maximum"] = limits.MaxOutputs;
        properties["num_inference_steps"]!["minimum"] = 1;
        properties["num_inference_steps"]!["maximum"] = limits.MaxSteps;
        properties["guidance_scale"]!["minimum"] = 0;
        properties["guidance_scale"]!["maximum"] = 50;
        properties["prompt"]!["maxLength"] = limits.MaxPromptLength;
        properties["negative_prompt"]!["maxLength"] = limits.MaxPromptLength;
        properties["scheduler"]!["enum"] = Strings(SchedulerFactory.Names);
        properties["output_format"]!["enum"] = Strings(OutputFormats.Names);
        properties["rng"]!["enum"] = Strings(RandomSource.Names);
        properties["sigma_schedule"]!["enum"] = Strings([.. ScheduleTypes.All.Skip(1).Select(a => a.Name)]);
        properties["eta"]!["minimum"] = 0;
        properties["eta"]!["maximum"] = 1;
        properties["image"]!["format"] = "uri";
        properties["mask"]!["format"] = "uri";
        properties["depth_image"]!["format"] = "uri";
        properties["noise_level"]!["minimum"] = 0;
        properties["noise_level"]!["maximum"] = GenerationDefaults.MaxNoiseLevel;
        properties["prompt_strength"]!["minimum"] = 0;
        properties["prompt_strength"]!["maximum"] = 1;
        properties["seed"]!["minimum"] = 0;
        properties["seed"]!["maximum"] = uint.MaxValue;
    }

    /// <summary>Removes the fields the model's kind does not take; the required ones.</summary>
    private static List<string> KeepTaskFields(JsonObject properties, ModelInfo? info)
    {
        // Only the fields the model's kind takes (an unknown model kind, not loaded yet, shows the 4-channel set).
        var tasks = info?.Tasks ?? [GenerationTask.TextToImage, GenerationTask.ImageToImage, GenerationTask.Inpaint];
        var required = new List<string> { "prompt" };
        var takesImage = tasks.Any(t => t != GenerationTask.TextToImage);
        if (!takesImage)
        {
            properties.Remove("image");
        }
        else if (!tasks.Contains(GenerationTask.TextToImage))
        {
            required.Add("image");
        }
        if (!tasks.Contains(GenerationTask.Inpaint))
        {
            properties.Remove("mask");
        }
        else if (tasks is [GenerationTask.Inpaint])
        {
            required.Add("mask");
        }
        if (!tasks.Any(t => t is GenerationTask.ImageToImage or GenerationTask.Inpaint or GenerationTask.DepthToImage))
        {
            properties.Remove("prompt_strength");
        }
        if (!tasks.Contains(GenerationTask.Upscale))
        {
            properties.Remove("noise_level");
        }
        else
        {
            // The output is 4x the input image.
            properties.Remove("width");
            properties.Remove("height");
            properties.Remove("size");
            properties.Remove("aspect_ratio");
        }
        if (!tasks.Contains(GenerationTask.DepthToImage))
        {
            properties.Remove("depth_image");
        }
        else if (info is { DepthEstimator: false })
        {
            required.Add("depth_image");
        }
        return required;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
}
