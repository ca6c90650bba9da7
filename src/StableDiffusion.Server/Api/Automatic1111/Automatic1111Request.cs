using System.Text.Json;
using System.Text.Json.Nodes;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// An A1111 txt2img/img2img body in our terms: the shared <see cref="GenerationInput"/>, plus what only A1111 has
/// (<c>n_iter</c>, <c>send_images</c>, the <c>parameters</c> echo). Defaults are A1111's; unknown fields are ignored.
/// </summary>
internal sealed record Automatic1111Request(
    GenerationInput Input,
    ServedModel Model,
    int BatchSize,
    int Iterations,
    double? DenoisingStrength,
    Automatic1111Sampling Sampling,
    bool SendImages,
    JsonObject Parameters,
    HiresFix? Hires,
    IReadOnlyList<string> Warnings,
    long Subseed)
{
    // A1111's defaults (modules/processing.py StableDiffusionProcessing; the API model's sampler_index "Euler").
    private const int DefaultSteps = 50;
    private const double DefaultCfgScale = 7.0;
    private const int DefaultSize = 512;
    private const double DefaultDenoisingStrength = 0.75;

    // A1111 fields echoed back in `parameters` when sent (A1111 echoes its whole request model; fields it does not know,
    // such as SillyTavern's `url` and `auth`, are not part of it and are not echoed).
    private static readonly string[] EchoedFields =
    [
        "styles", "subseed", "subseed_strength", "seed_resize_from_h", "seed_resize_from_w", "restore_faces", "tiling",
        "do_not_save_samples", "do_not_save_grid", "eta", "s_min_uncond", "s_churn", "s_tmax", "s_tmin", "s_noise",
        "override_settings", "override_settings_restore_afterwards", "sampler_index", "script_name", "script_args",
        "send_images", "save_images", "alwayson_scripts", "enable_hr", "hr_scale", "hr_upscaler", "hr_second_pass_steps",
        "hr_resize_x", "hr_resize_y", "resize_mode", "image_cfg_scale", "mask_blur", "inpainting_fill", "inpaint_full_res",
        "inpaint_full_res_padding", "inpainting_mask_invert", "include_init_images", "clip_skip",
    ];

    /// <summary>Reads the body; null with errors per A1111 field when a field has the wrong type or value.</summary>
    public static Automatic1111Request? Read(JsonElement root, bool img2img, ModelCatalog catalog, ServedModel checkpoint,
        LimitsOptions limits, out Dictionary<string, string[]> errors, string randnSource = "GPU")
    {
        var f = new LooseFields(root);
        var prompt = f.String("prompt") ?? "";
        var negative = f.String("negative_prompt") ?? "";
        var steps = f.Int("steps") ?? DefaultSteps;
        var cfg = f.Double("cfg_scale") ?? DefaultCfgScale;
        var width = f.Int("width") ?? DefaultSize;
        var height = f.Int("height") ?? DefaultSize;
        var seed = f.Long("seed") ?? -1;
        var batch = f.Int("batch_size") ?? 1;
        var iterations = f.Int("n_iter") ?? 1;
        var sampler = f.String("sampler_name") ?? f.String("sampler_index") ?? Automatic1111Samplers.Default;
        var scheduleType = f.String("scheduler");
        var sendImages = f.Bool("send_images") ?? true;
        var checkpointName = ReadCheckpointName(f);
        var randn = ReadRandnSource(f, randnSource);
        var eta = f.Double("eta");
        var (denoising, initImage, mask, includeInitImages) = img2img ? ReadImg2Img(f) : (null, null, null, false);

        var sampling = Automatic1111Samplers.Resolve(sampler, scheduleType);
        var warnings = new List<string>(sampling.Warnings);
        var subseed = ReadSubseed(f, warnings);
        // img2img has no hires fix in A1111.
        var hires = img2img ? null : Automatic1111HiresFix.Read(f, width, height, limits, catalog, warnings);
        CheckBatches(f, batch, iterations, limits);
        var model = ResolveModel(f, catalog, checkpoint, checkpointName);
        errors = f.Errors.ToDictionary(e => e.Key, e => new[] { e.Value });
        if (errors.Count > 0)
        {
            return null;
        }

        var input = new GenerationInput
        {
            Prompt = prompt,
            NegativePrompt = negative,
            Width = width,
            Height = height,
            NumOutputs = batch,
            NumInferenceSteps = steps,
            GuidanceScale = cfg,
            Scheduler = sampling.Scheduler,
            // A1111's get_fixed_seed: -1 means "draw one".
            Seed = seed == -1 ? null : seed,
            Rng = randn,
            Eta = eta,
            SigmaSchedule = sampling.SigmaSchedule,
            Image = initImage,
            Mask = mask,
            PromptStrength = denoising,
        };
        var parameters = new JsonObject
        {
            ["prompt"] = prompt,
            ["negative_prompt"] = negative,
            ["seed"] = seed,
            ["sampler_name"] = sampler,
            ["scheduler"] = scheduleType,
            ["batch_size"] = batch,
            ["n_iter"] = iterations,
            ["steps"] = steps,
            ["cfg_scale"] = cfg,
            ["width"] = width,
            ["height"] = height,
            ["denoising_strength"] = denoising,
        };
        EchoRawFields(parameters, root, img2img, includeInitImages);
        return new Automatic1111Request(input, model, batch, iterations, hires?.DenoisingStrength ?? denoising, sampling, sendImages, parameters,
            hires, warnings, subseed);
    }

    /// <summary>A1111's <c>subseed</c> as its info reports it (get_fixed_seed: -1 draws one); variations
    /// (<c>subseed_strength</c> above 0) are not implemented, so the subseed never changes the image.</summary>
    private static long ReadSubseed(LooseFields f, List<string> warnings)
    {
        var subseed = f.Long("subseed") ?? -1;
        if (f.Double("subseed_strength") is > 0)
        {
            warnings.Add("subseed_strength is not supported (no variation seeds here): ignored");
        }
        return subseed == -1 ? Random.Shared.NextInt64(0, 4_294_967_294) : subseed;
    }

    /// <summary><c>override_settings.sd_model_checkpoint</c> (the other override honoured, randn_source, is read by ReadRandnSource).</summary>
    private static string? ReadCheckpointName(LooseFields f)
    {
        var overrides = f.Object("override_settings");
        var checkpointName = overrides?.String("sd_model_checkpoint");
        foreach (var (field, message) in overrides?.Errors ?? [])
        {
            f.Errors["override_settings." + field] = message;
        }
        return checkpointName;
    }

    private static (double? Denoising, string? Image, string? Mask, bool IncludeInitImages) ReadImg2Img(LooseFields f)
    {
        var denoising = f.Double("denoising_strength") ?? DefaultDenoisingStrength;
        var includeInitImages = f.Bool("include_init_images") ?? false;
        string? initImage = null;
        var initImages = f.Strings("init_images");
        if (initImages is null || initImages.Count == 0)
        {
            f.Errors.TryAdd("init_images", "is required: at least one base64 image");
        }
        else
        {
            // A1111 cycles several init images over the batch; frontends send one, and the first is used.
            initImage = ToDataUri(initImages[0]);
        }
        var mask = f.String("mask") is { Length: > 0 } m ? ToDataUri(m) : null;
        return (denoising, initImage, mask, includeInitImages);
    }

    /// <summary>A1111's <c>randn_source</c>, from <c>override_settings</c> or the session's option: GPU (A1111's default,
    /// torch.randn on CUDA, which the NV source imitates on any machine), NV, or CPU (torch's CPU generator); image k
    /// draws from a generator seeded seed + k, as A1111 does.</summary>
    private static string ReadRandnSource(LooseFields f, string sessionDefault)
    {
        var randn = f.Object("override_settings")?.String("randn_source") ?? sessionDefault;
        if (!Automatic1111Session.IsRandnSource(randn))
        {
            f.Errors["override_settings.randn_source"] = "must be GPU, CPU or NV";
        }
        return randn;
    }

    /// <summary>The batch counts checked against the limits.</summary>
    private static void CheckBatches(LooseFields f, int batch, int iterations, LimitsOptions limits)
    {
        if (iterations < 1)
        {
            f.Errors["n_iter"] = "must be at least 1";
        }
        else if (batch >= 1 && (long)batch * iterations > limits.MaxOutputs)
        {
            // The shared output limit holds per request, whichever way the images are split into batches.
            f.Errors["n_iter"] = $"batch_size × n_iter is {(long)batch * iterations} images; at most {limits.MaxOutputs} are accepted per request";
        }
    }

    private static ServedModel ResolveModel(LooseFields f, ModelCatalog catalog, ServedModel checkpoint, string? checkpointName)
    {
        var model = checkpoint;
        if (!string.IsNullOrWhiteSpace(checkpointName))
        {
            if (Automatic1111Checkpoints.Resolve(catalog, checkpointName) is { } chosen)
            {
                model = chosen;
            }
            else
            {
                f.Errors["override_settings.sd_model_checkpoint"] = Automatic1111Checkpoints.Unknown(checkpointName, catalog);
            }
        }
        return model;
    }

    /// <summary>Fields echoed back as they were sent (A1111 echoes its request model).</summary>
    private static void EchoRawFields(JsonObject parameters, JsonElement root, bool img2img, bool includeInitImages)
    {
        foreach (var field in EchoedFields)
        {
            if (root.TryGetProperty(field, out var value))
            {
                parameters[field] = JsonNode.Parse(value.GetRawText());
            }
        }
        if (img2img)
        {
            // A1111 drops the (large) input images from the echo unless include_init_images is set.
            parameters["init_images"] = includeInitImages && root.TryGetProperty("init_images", out var images) ? JsonNode.Parse(images.GetRawText()) : null;
            parameters["mask"] = includeInitImages && root.TryGetProperty("mask", out var m) ? JsonNode.Parse(m.GetRawText()) : null;
        }
    }

    /// <summary>A1111 accepts raw base64 or a data URI (modules/api/api.py decode_base64_to_image); ours reads data URIs.</summary>
    public static string ToDataUri(string value)
        => value.StartsWith("data:", StringComparison.OrdinalIgnoreCase) || value.StartsWith("http:", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
            ? value
            : "data:application/octet-stream;base64," + value;
}
