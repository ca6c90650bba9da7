using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;

using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// The OpenAI Images surface (<c>/v1/images/generations</c>, <c>/v1/images/edits</c>), so the official <c>openai</c>
/// clients work with <c>baseURL</c> pointing here. A thin translation onto <see cref="GenerationInput"/>: the one
/// validator, the one queue, answered synchronously.
/// </summary>
internal static class OpenAiImagesApi
{
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

        images.MapPost("/generations", CreateImageAsync)
            .WithName("OpenAiCreateImage")
            .WithSummary("Create images (OpenAI Images API)")
            .WithDescription("OpenAI's `images.generate`: `prompt`, `n`, `size` (WxH), `response_format` (`url` or `b64_json`; gpt-image-* models answer `b64_json` only, with `usage`, as OpenAI), `model`, `output_format`, `output_compression`, `quality`, `background`, `moderation`, `stream`, `partial_images`; extras `negative_prompt`, `seed`, `rng` (noise source: cpu, nv, numpy, xoshiro), `steps`, `guidance_scale`, `scheduler`, `eta` (DDIM). Waits for the images (bounded by Queue:JobDeadlineSeconds). Errors are OpenAI-shaped: `{error:{message,type,param,code}}`.")
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

        images.MapPost("/edits", EditImageAsync)
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

    public static async Task<IResult> CreateImageAsync(HttpContext context, [AsParameters] OpenAiServices services)
    {
        var maxBytes = services.Limits.CurrentValue.MaxBodyBytes;
        var read = await RequestBodies.ReadObjectAsync(context.Request, maxBytes);
        if (read.TooLarge)
        {
            return OpenAiErrors.TooLarge(maxBytes);
        }
        if (!read.Ok)
        {
            return OpenAiErrors.Invalid(read.FirstError!, null, "invalid_json");
        }
        using var document = read.Value;
        var fields = new LooseFields(document.RootElement);
        return await GenerateAsync(context, OpenAiInput.Parse(fields, image: null, mask: null), fields, services);
    }

    public static async Task<IResult> EditImageAsync(HttpContext context, [AsParameters] OpenAiServices services)
    {
        var read = await OpenAiEditForm.ReadAsync(context.Request, services.Limits.CurrentValue);
        if (read.Error is { } error)
        {
            return error;
        }
        var (fields, image, mask) = (read.Fields!, read.Image!, read.Mask);
        var parsed = OpenAiInput.Parse(fields, image, mask);
        if (parsed.Input.Width is null && OpenAiEditForm.InputSize(image) is var (width, height))
        {
            // No size: an edit keeps the input's size, rounded down to a multiple of 8 (diffusers'
            // get_default_height_width), rather than the model's native size.
            parsed = parsed with { Input = parsed.Input with { Width = width / 8 * 8, Height = height / 8 * 8 } };
        }
        return await GenerateAsync(context, parsed, fields, services);
    }

    private static async Task<IResult> GenerateAsync(HttpContext context, OpenAiInput.ParsedRequest parsed, LooseFields fields, OpenAiServices s)
    {
        if (parsed.Refusal is { } refusal)
        {
            return refusal;
        }
        if (fields.Errors.Count > 0)
        {
            return OpenAiErrors.Validation(fields.Errors.ToDictionary(e => e.Key, e => new[] { e.Value }));
        }
        var validation = s.Validator.Validate(OpenAiInput.ModelReference(parsed.Model), parsed.Input, "model");
        if (validation.UnknownModel)
        {
            return OpenAiErrors.ModelNotFound(string.Join(" ", validation.Errors.Values.SelectMany(e => e)));
        }
        if (!validation.IsValid)
        {
            return OpenAiErrors.Validation(OpenAiInput.RenameFields(validation.Errors));
        }

        var submission = new JobSubmission(validation.Request!, SynchronousGeneration.EchoInput(parsed.Input))
        {
            BaseUrl = PublicUrls.BaseUrl(context.Request),
        };
        var queueOptions = s.QueueOptions.Value;
        var (job, outcome, rejection) = await SynchronousGeneration.RunAsync(s.Dispatcher, submission,
            TimeSpan.FromSeconds(queueOptions.JobDeadlineSeconds), context.RequestAborted);
        return outcome switch
        {
            WaitOutcome.Rejected => rejection == SubmitRejection.ShuttingDown
                ? OpenAiErrors.ShuttingDown()
                : OpenAiErrors.QueueFull(context, queueOptions.RetryAfterSeconds, s.Queue.Capacity),
            WaitOutcome.TimedOut => OpenAiErrors.TimedOut(queueOptions.JobDeadlineSeconds),
            WaitOutcome.ClientGone => Results.Empty,
            _ => await AnswerAsync(job!, parsed, s),
        };
    }

    private static async Task<IResult> AnswerAsync(Job job, OpenAiInput.ParsedRequest parsed, OpenAiServices s)
    {
        var asUrl = parsed.AsUrl && !parsed.Options.Stream;
        var images = new List<OpenAiImage>();
        foreach (var f in job.Status == JobStatus.Succeeded ? job.Outputs : [])
        {
            images.Add(new OpenAiImage(
                asUrl ? null : Convert.ToBase64String(await s.Store.ReadFileAsync(f) ?? []),
                asUrl ? PublicUrls.File(job.BaseUrl, f) : null,
                job.Request.Prompt));
        }
        if (job.Status != JobStatus.Succeeded)
        {
            return Failure(job);
        }
        var response = new OpenAiImagesResponse(s.Time.GetUtcNow().ToUnixTimeSeconds(), images.ToArray());
        if (parsed.Options.GptImage || parsed.Options.Stream)
        {
            // What OpenAI reports for its GPT image models: what was made (always opaque here) and the usage.
            response = response with
            {
                Background = "opaque",
                OutputFormat = job.Request.Settings.OutputFormat == Core.Imaging.OutputFormat.Jpg ? "jpeg" : job.Request.Settings.OutputFormat.Extension(),
                Size = $"{job.Request.Width}x{job.Request.Height}",
                Quality = parsed.Options.Quality,
                Usage = OpenAiUsage.Of(job, s.Catalog),
            };
        }
        return parsed.Options.Stream ? new OpenAiImageStream(response, edit: parsed.Input.ImageBytes is not null) : TypedResults.Ok(response);
    }

    private static IResult Failure(Job job) => job.Status switch
    {
        JobStatus.Canceled => OpenAiErrors.Of(StatusCodes.Status500InternalServerError,
            $"The job {job.Id} was canceled before it finished.", "server_error", null, "canceled"),
        _ => OpenAiErrors.Failed(job.Error),
    };
}
