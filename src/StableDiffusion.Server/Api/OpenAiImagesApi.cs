using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Api;

/// <summary>
/// The OpenAI Images surface (<c>/v1/images/generations</c>, <c>/v1/images/edits</c>), so the official <c>openai</c>
/// clients work with <c>baseURL</c> pointing here. A thin translation onto <see cref="GenerationInput"/>: the one
/// validator, the one queue, answered synchronously.
/// </summary>
public static class OpenAiImagesApi
{
    // The shared validator names fields as the native API does; OpenAI clients know them by these names.
    private static readonly Dictionary<string, string> ParamNames = new()
    {
        ["width"] = "size",
        ["height"] = "size",
        ["num_outputs"] = "n",
        ["num_inference_steps"] = "steps",
        ["prompt_strength"] = "strength",
    };

    private static readonly JsonObject ImagesExample = new()
    {
        ["created"] = 1764087000,
        ["data"] = new JsonArray(new JsonObject { ["b64_json"] = "iVBORw0KGgoAAAANSUhEUgAA...", ["revised_prompt"] = "a lighthouse at dusk" }),
    };

    private static JsonObject ErrorExample(string message, string type, string? param, string? code) => new()
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
    };

    public static WebApplication MapOpenAiImages(this WebApplication app)
    {
        var images = app.MapGroup("/v1/images")
            .AddEndpointFilter<OpenAiKeyFilter>()
            .RequireRateLimiting(ApiEdges.RateLimitPolicy)
            .WithTags("OpenAI Images");

        images.MapPost("/generations", GenerationsAsync)
            .WithName("OpenAiCreateImage")
            .WithSummary("Create images (OpenAI Images API)")
            .WithDescription("OpenAI's `images.generate`: `prompt`, `n`, `size` (WxH), `response_format` (`url` or `b64_json`), `model`; extras `negative_prompt`, `seed`, `steps`, `guidance_scale`, `scheduler`. Waits for the images (bounded by Queue:JobDeadlineSeconds). Errors are OpenAI-shaped: `{error:{message,type,param,code}}`.")
            .Accepts<OpenAiGenerationRequest>("application/json")
            .WithRequestExample(new JsonObject
            {
                ["model"] = "dall-e-3", ["prompt"] = "a lighthouse at dusk", ["n"] = 1, ["size"] = "512x512",
                ["response_format"] = "b64_json", ["negative_prompt"] = "fog", ["seed"] = 42, ["steps"] = 25,
            })
            .WithResponseExample(StatusCodes.Status200OK, ImagesExample)
            .WithResponseExample(StatusCodes.Status400BadRequest, ErrorExample("Invalid request: 'size' (width) must be a multiple of 8.", "invalid_request_error", "size", "invalid_value"))
            .WithResponseExample(StatusCodes.Status429TooManyRequests, ErrorExample("All 64 queue slots are taken; retry after 5 s. No image was generated.", "requests", null, "rate_limit_exceeded"))
            .Produces<OpenAiImagesResponse>()
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status401Unauthorized)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status429TooManyRequests)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status500InternalServerError);

        images.MapPost("/edits", EditsAsync)
            .WithName("OpenAiEditImage")
            .WithSummary("Edit an image (OpenAI Images API)")
            .WithResponseExample(StatusCodes.Status200OK, ImagesExample)
            .WithResponseExample(StatusCodes.Status400BadRequest, ErrorExample("Invalid request: 'image' model 'sd21' cannot do image-to-image; it offers text-to-image.", "invalid_request_error", "image", "invalid_value"))
            .WithDescription("OpenAI's `images.edit`, multipart/form-data: `image` (PNG, JPEG or WebP), optional `mask` → inpainting (transparent = repaint, as OpenAI; an opaque mask is white = repaint), without a mask → image-to-image (`strength`, default 0.8). Other fields as for generations. A model that cannot do the task answers 400 naming the reason.")
            .Produces<OpenAiImagesResponse>()
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status401Unauthorized)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status429TooManyRequests);
        return app;
    }

    private static async Task<IResult> GenerationsAsync(HttpContext context, GenerationRequestValidator validator, JobDispatcher dispatcher,
        GenerationQueue queue, IOptionsMonitor<LimitsOptions> limits, IOptions<QueueOptions> queueOptions, TimeProvider time)
    {
        var (document, error, tooLarge) = await RequestBodies.ReadObjectAsync(context.Request, limits.CurrentValue.MaxBodyBytes);
        if (tooLarge)
        {
            return OpenAiErrors.TooLarge(limits.CurrentValue.MaxBodyBytes);
        }
        if (document is null)
        {
            return OpenAiErrors.Invalid(error!, null, "invalid_json");
        }
        using (document)
        {
            var fields = new LooseFields(document.RootElement);
            var parsed = Parse(fields, image: null, mask: null);
            return await GenerateAsync(context, parsed, fields, validator, dispatcher, queue, queueOptions.Value, time);
        }
    }

    private static async Task<IResult> EditsAsync(HttpContext context, GenerationRequestValidator validator, JobDispatcher dispatcher,
        GenerationQueue queue, IOptionsMonitor<LimitsOptions> limits, IOptions<QueueOptions> queueOptions, TimeProvider time)
    {
        var l = limits.CurrentValue;
        if (context.Request.ContentLength > l.MaxBodyBytes)
        {
            return OpenAiErrors.TooLarge(l.MaxBodyBytes);
        }
        if (!context.Request.HasFormContentType)
        {
            return OpenAiErrors.Invalid("The body must be multipart/form-data with the image file in 'image'.", null, "invalid_content_type");
        }
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = l.MaxBodyBytes }, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return OpenAiErrors.TooLarge(l.MaxBodyBytes);
        }
        catch (InvalidDataException e)
        {
            return OpenAiErrors.Invalid($"The multipart body is malformed or too large: {e.Message}", null, "invalid_multipart");
        }

        // Form fields are strings; LooseFields reads numbers from strings as the JSON endpoint reads them from numbers.
        var values = new JsonObject();
        foreach (var (key, value) in form)
        {
            values[key] = value.ToString();
        }
        var fields = new LooseFields(JsonSerializer.SerializeToElement(values));
        // Open WebUI sends several images as 'image[]'; like OpenAI's older models, only the first is used.
        var imageFile = form.Files.GetFile("image") ?? form.Files.GetFile("image[]");
        if (imageFile is null)
        {
            return OpenAiErrors.Invalid("'image' is required: the image to edit, as a file part.", "image", "missing_required_parameter");
        }
        var imageBytes = await ReadAllAsync(imageFile, context.RequestAborted);
        var image = DataUri(imageBytes);
        string? mask = null;
        if (form.Files.GetFile("mask") is { } maskFile)
        {
            mask = DataUri(OpenAiMask.ToRepaintMask(await ReadAllAsync(maskFile, context.RequestAborted), l.MaxImagePixels));
        }
        var parsed = Parse(fields, image, mask);
        if (parsed.Input.Width is null && InputSize(imageBytes) is var (width, height))
        {
            // No size: an edit keeps the input's size, rounded down to a multiple of 8 (diffusers'
            // get_default_height_width), rather than the model's native size.
            parsed = parsed with { Input = parsed.Input with { Width = width / 8 * 8, Height = height / 8 * 8 } };
        }
        return await GenerateAsync(context, parsed, fields, validator, dispatcher, queue, queueOptions.Value, time);
    }

    /// <summary>The image's size from its header; null when unreadable (the validator then says why).</summary>
    private static (int Width, int Height)? InputSize(byte[] bytes)
    {
        // Core's identification: the accepted formats only, from our own header walk (never ImageSharp's identifiers,
        // which tried every format and threw on a malformed BMP or TIFF — a 500).
        try
        {
            var container = Core.Imaging.ImageDecoder.Identify(bytes, "image", new Core.Imaging.ImageLimits { MaxBytes = long.MaxValue, MaxPixels = long.MaxValue, MaxSide = int.MaxValue });
            return (container.Width, container.Height);
        }
        catch (Core.Imaging.ImageInputException)
        {
            return null;
        }
    }

    private sealed record ParsedRequest(GenerationInput Input, string? Model, bool AsUrl);

    private static ParsedRequest Parse(LooseFields fields, string? image, string? mask)
    {
        int? width = null, height = null;
        if (fields.String("size") is { } size && !size.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            var parts = size.Split('x', 'X');
            if (parts.Length == 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h))
            {
                (width, height) = (w, h);
            }
            else
            {
                fields.Errors["size"] = $"must be WIDTHxHEIGHT (e.g. 512x512) or 'auto', not '{size}'";
            }
        }
        var asUrl = true;
        if (fields.String("response_format") is { } format)
        {
            if (format is "b64_json")
            {
                asUrl = false;
            }
            else if (format is not "url")
            {
                fields.Errors["response_format"] = "must be 'url' or 'b64_json'";
            }
        }
        var input = new GenerationInput
        {
            Prompt = fields.String("prompt"),
            NegativePrompt = fields.String("negative_prompt"),
            Width = width,
            Height = height,
            NumOutputs = fields.Int("n"),
            NumInferenceSteps = fields.Int("steps"),
            GuidanceScale = fields.Double("guidance_scale"),
            Scheduler = fields.String("scheduler"),
            Seed = fields.Long("seed"),
            OutputFormat = fields.String("output_format"),
            Image = image,
            Mask = mask,
            PromptStrength = fields.Double("strength"),
        };
        return new ParsedRequest(input, fields.String("model"), asUrl);
    }

    private static async Task<IResult> GenerateAsync(HttpContext context, ParsedRequest parsed, LooseFields fields,
        GenerationRequestValidator validator, JobDispatcher dispatcher, GenerationQueue queue, QueueOptions queueOptions, TimeProvider time)
    {
        if (fields.Errors.Count > 0)
        {
            return OpenAiErrors.Validation(fields.Errors.ToDictionary(e => e.Key, e => new[] { e.Value }));
        }
        var validation = validator.Validate(ModelReference(parsed.Model), parsed.Input, "model");
        if (validation.UnknownModel)
        {
            return OpenAiErrors.ModelNotFound(string.Join(" ", validation.Errors.Values.SelectMany(e => e)));
        }
        if (!validation.IsValid)
        {
            return OpenAiErrors.Validation(RenameFields(validation.Errors));
        }

        var submission = new JobSubmission(validation.Request!, SynchronousGeneration.EchoInput(parsed.Input))
        {
            BaseUrl = PublicUrls.BaseUrl(context.Request),
        };
        var (job, outcome, rejection) = await SynchronousGeneration.RunAsync(dispatcher, submission,
            TimeSpan.FromSeconds(queueOptions.JobDeadlineSeconds), context.RequestAborted);
        switch (outcome)
        {
            case WaitOutcome.Rejected:
                return rejection == SubmitRejection.ShuttingDown
                    ? OpenAiErrors.ShuttingDown()
                    : OpenAiErrors.QueueFull(context, queueOptions.RetryAfterSeconds, queue.Capacity);
            case WaitOutcome.TimedOut:
                return OpenAiErrors.TimedOut(queueOptions.JobDeadlineSeconds);
            case WaitOutcome.ClientGone:
                return Results.Empty;
        }
        return job!.Status switch
        {
            JobStatus.Succeeded => TypedResults.Ok(new OpenAiImagesResponse(
                time.GetUtcNow().ToUnixTimeSeconds(),
                job.Outputs.Select(f => new OpenAiImage(
                    parsed.AsUrl ? null : Convert.ToBase64String(f.Bytes),
                    parsed.AsUrl ? PublicUrls.File(job.BaseUrl, f.Id) : null,
                    job.Request.Prompt)).ToArray())),
            JobStatus.Canceled => OpenAiErrors.Of(StatusCodes.Status500InternalServerError,
                $"The job {job.Id} was canceled before it finished.", "server_error", null, "canceled"),
            _ => OpenAiErrors.Failed(job.Error),
        };
    }

    /// <summary>OpenAI's own model ids mean "the default model", so clients that hard-code them still work.</summary>
    private static string? ModelReference(string? model)
        => string.IsNullOrWhiteSpace(model) || model.StartsWith("dall-e", StringComparison.OrdinalIgnoreCase)
            || model.StartsWith("gpt-image", StringComparison.OrdinalIgnoreCase) ? null : model;

    private static Dictionary<string, string[]> RenameFields(IReadOnlyDictionary<string, string[]> errors)
    {
        var renamed = new Dictionary<string, string[]>();
        foreach (var (field, messages) in errors)
        {
            var name = ParamNames.GetValueOrDefault(field, field);
            renamed[name] = renamed.TryGetValue(name, out var existing)
                ? [.. existing, .. messages.Select(m => $"({field}) {m}")]
                : name == field ? messages : messages.Select(m => $"({field}) {m}").ToArray();
        }
        return renamed;
    }

    private static async Task<byte[]> ReadAllAsync(IFormFile file, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
        await file.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    // The shared image decoder reads data URIs and recognises the format from the bytes, not the declared type.
    private static string DataUri(byte[] bytes) => "data:application/octet-stream;base64," + Convert.ToBase64String(bytes);
}
