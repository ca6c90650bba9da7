using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// The AUTOMATIC1111-compatible surface (<c>/sdapi/v1</c>) that frontends such as Open WebUI and SillyTavern speak.
/// A thin translation onto <see cref="GenerationInput"/>: the one validator, the one queue; <c>n_iter</c> batches are
/// jobs run one after another with seeds continuing <c>seed + k</c>. Unknown fields are ignored, as A1111 ignores them.
/// </summary>
internal static class Automatic1111Api
{
    // The shared validator names fields as the native API does; A1111 clients know them by these names.
    private static readonly Dictionary<string, string> FieldNames = new()
    {
        ["num_outputs"] = "batch_size",
        ["num_inference_steps"] = "steps",
        ["guidance_scale"] = "cfg_scale",
        ["scheduler"] = "sampler_name",
        ["image"] = "init_images",
        ["prompt_strength"] = "denoising_strength",
    };

    /// <summary>The A1111 session (current checkpoint, the call in progress): one per server, as A1111 has one.</summary>
    public static IServiceCollection AddAutomatic1111(this IServiceCollection services)
        => services.AddSingleton<Automatic1111Session>();

    public static WebApplication MapAutomatic1111(this WebApplication app)
    {
        var sdapi = app.MapGroup("/sdapi/v1")
            .AddEndpointFilter<Automatic1111KeyFilter>()
            .RequireRateLimiting(ApiEdges.RateLimitPolicy)
            .WithTags("AUTOMATIC1111");

        sdapi.MapPost("/txt2img", Txt2ImgAsync).WithName("A1111Txt2Img")
            .Accepts<JsonObject>("application/json")
            .WithRequestExample(new JsonObject
            {
                ["prompt"] = "a watercolor fox", ["negative_prompt"] = "blurry", ["steps"] = 25, ["cfg_scale"] = 7, ["width"] = 512,
                ["height"] = 512, ["seed"] = -1, ["sampler_name"] = "DPM++ 2M", ["scheduler"] = "Karras", ["batch_size"] = 1, ["n_iter"] = 1,
            })
            .WithSummary("Text to image (AUTOMATIC1111 API)")
            .WithDescription("A1111's `StableDiffusionTxt2ImgProcessingAPI`: `prompt`, `negative_prompt`, `steps`, `cfg_scale`, `width`, `height`, `seed` (-1 = random), `sampler_name` (+ `scheduler`: any A1111 schedule type; an unknown sampler runs DPM++ 2M, named in `info.warnings`), `batch_size`, `n_iter`, `override_settings.sd_model_checkpoint`, and the hires fix (`enable_hr`, `hr_scale`, `hr_resize_x/y`, `hr_upscaler`, `hr_second_pass_steps`, `denoising_strength`). Unknown fields are ignored. Answers `{images, parameters, info}` with `info` a JSON string.")
            .ProducesImages();
        sdapi.MapPost("/img2img", Img2ImgAsync).WithName("A1111Img2Img")
            .WithSummary("Image to image and inpainting (AUTOMATIC1111 API)")
            .WithDescription("As txt2img, plus `init_images` (base64, the first is used), `mask` (white = repaint) and `denoising_strength` (default 0.75). A model that cannot do the task answers 400 naming the reason.")
            .ProducesImages();
        sdapi.MapGet("/progress", Progress).WithName("A1111Progress")
            .WithSummary("Progress of the current A1111 call")
            .WithDescription("A1111's formula: 0.01 + finished batches / n_iter + this batch's steps. `current_image` is null (no live previews) unless `skip_current_image=false` is passed, then it is the last finished image of the call, if any.");
        sdapi.MapPost("/interrupt", Interrupt).WithName("A1111Interrupt")
            .WithSummary("Interrupt the current A1111 call (its running job is canceled; finished batches are returned)");
        sdapi.MapPost("/skip", Skip).WithName("A1111Skip").WithSummary("Skip the running batch of the current A1111 call");
        sdapi.MapGet("/samplers", () => TypedResults.Ok(Automatic1111Samplers.List)).WithName("A1111Samplers").WithSummary("Samplers, by A1111 name");
        sdapi.MapGet("/schedulers", () => TypedResults.Ok(Automatic1111Samplers.Schedulers)).WithName("A1111Schedulers").WithSummary("Schedule types (A1111 1.9+)");
        sdapi.MapGet("/sd-models", SdModels).WithName("A1111Models").WithSummary("Served models as A1111 checkpoints");
        sdapi.MapGet("/options", GetOptions).WithName("A1111GetOptions").WithSummary("Options (sd_model_checkpoint is the model A1111 calls use)");
        sdapi.MapPost("/options", SetOptions).WithName("A1111SetOptions")
            .WithSummary("Set options")
            .WithDescription("`sd_model_checkpoint` (title, name or hash from /sd-models) switches the model A1111 calls use; `randn_source` (GPU, CPU or NV: GPU and NV draw A1111's NV noise, CPU torch's CPU generator) sets the noise source of later A1111 calls; other options are accepted and ignored, so a client may post back what GET returned.")
            .ProducesValidationProblem();

        MapUpscaling(sdapi);
        MapStartUpLists(sdapi);
        return app;
    }

    /// <summary>The hires fix's lists, the extras and PNG info.</summary>
    private static void MapUpscaling(RouteGroupBuilder sdapi)
    {
        // What SillyTavern's settings page asks for (src/endpoints/stable-diffusion.js): "None" first, then the latent
        // modes, then the upscalers; the hires fix and the extras run all of them.
        sdapi.MapGet("/upscalers", (ModelCatalog catalog) => TypedResults.Ok(UpscalerNames(catalog)
                .Select(name => new Automatic1111Upscaler(name, null, null, null, 4)).ToArray()))
            .WithName("A1111Upscalers").WithSummary("Upscalers: None, Lanczos, Nearest, and each served x4 upscaler model (extras only)");
        sdapi.MapGet("/latent-upscale-modes", () => TypedResults.Ok(Automatic1111HiresFix.LatentModes
                .Select(m => new JsonObject { ["name"] = m.Name }).ToArray()))
            .WithName("A1111LatentUpscaleModes").WithSummary("Latent upscale modes of the hires fix");
        sdapi.MapPost("/extra-single-image", Automatic1111Extras.SingleImageAsync).WithName("A1111ExtraSingleImage")
            .WithSummary("Upscale one image (A1111 Extras)")
            .WithDescription("`image` (base64), `resize_mode` (0: × `upscaling_resize`, default 2; 1: to `upscaling_resize_w`×`upscaling_resize_h`, centre-cropped when `upscaling_crop`), `upscaler_1` (None, Lanczos, Nearest, or `SD x4 (<model>)` for a served x4 upscaler model). Answers `{html_info, image}`; the result must fit Limits:MaxImagePixels.")
            .ProducesValidationProblem();
        sdapi.MapPost("/extra-batch-images", Automatic1111Extras.BatchImagesAsync).WithName("A1111ExtraBatchImages")
            .WithSummary("Upscale several images (A1111 Extras)")
            .WithDescription("As extra-single-image with `imageList: [{data, name}]` (at most Limits:MaxOutputs); answers `{html_info, images}`.")
            .ProducesValidationProblem();
        sdapi.MapPost("/png-info", Automatic1111Extras.PngInfoAsync).WithName("A1111PngInfo")
            .WithSummary("Read the generation parameters a PNG carries")
            .WithDescription("`image` (base64). Answers `{info, items, parameters}`: the `parameters` text chunk, every text chunk, and the text parsed as A1111 parses it.")
            .ProducesValidationProblem();
    }

    /// <summary>The other lists frontends read at start-up: nothing of these kinds is served.</summary>
    private static void MapStartUpLists(RouteGroupBuilder sdapi)
    {
        sdapi.MapGet("/sd-vae", () => TypedResults.Ok(Array.Empty<JsonObject>()))
            .WithName("A1111Vaes").WithSummary("Separate VAEs (none: each model folder has its own)");
        sdapi.MapGet("/sd-modules", () => TypedResults.Ok(Array.Empty<JsonObject>()))
            .WithName("A1111Modules").WithSummary("Forge's extra modules (none)");
        foreach (var list in new[] { "loras", "hypernetworks", "face-restorers", "realesrgan-models", "prompt-styles" })
        {
            sdapi.MapGet("/" + list, () => TypedResults.Ok(Array.Empty<JsonObject>())).WithName("A1111List-" + list).WithSummary($"{list} (none)");
        }
        sdapi.MapGet("/embeddings", () => TypedResults.Ok(new JsonObject { ["loaded"] = new JsonObject(), ["skipped"] = new JsonObject() }))
            .WithName("A1111Embeddings").WithSummary("Textual-inversion embeddings (none)");
        sdapi.MapGet("/scripts", () => TypedResults.Ok(new JsonObject { ["txt2img"] = new JsonArray(), ["img2img"] = new JsonArray() }))
            .WithName("A1111Scripts").WithSummary("Scripts (none)");
        foreach (var refresh in new[] { "refresh-checkpoints", "refresh-vae", "refresh-loras" })
        {
            // The served folders are fixed at start-up: a refresh has nothing to do, and A1111 answers null.
            sdapi.MapPost("/" + refresh, () => Results.Content("null", "application/json")).WithName("A1111-" + refresh).WithSummary($"{refresh} (no-op)");
        }
    }

    /// <summary>A1111's built-in upscalers, then the x4 upscaler models served here ("SD x4 (name)", extras only).</summary>
    public static IEnumerable<string> UpscalerNames(ModelCatalog catalog)
        => Automatic1111HiresFix.ImageUpscalers.Select(u => u.Name).Concat(Automatic1111ModelUpscale.Models(catalog).Select(Automatic1111ModelUpscale.Name));

    public static Task<IResult> Txt2ImgAsync(HttpContext context, [AsParameters] Automatic1111Services services)
        => GenerateAsync(context, services, img2img: false);

    public static Task<IResult> Img2ImgAsync(HttpContext context, [AsParameters] Automatic1111Services services)
        => GenerateAsync(context, services, img2img: true);

    public static Ok<Automatic1111Progress> Progress([AsParameters] Automatic1111Services services, bool? skip_current_image)
        => TypedResults.Ok(services.Session.Progress(services.Time.GetUtcNow(), includeImage: skip_current_image == false));

    public static Ok<JsonObject> Interrupt([AsParameters] Automatic1111Services services)
    {
        services.Session.Interrupt(services.Dispatcher);
        return TypedResults.Ok(new JsonObject());
    }

    public static Ok<JsonObject> Skip([AsParameters] Automatic1111Services services)
    {
        services.Session.Skip(services.Dispatcher);
        return TypedResults.Ok(new JsonObject());
    }

    public static Ok<Automatic1111Model[]> SdModels([AsParameters] Automatic1111Services services)
        => TypedResults.Ok(services.Catalog.Models.Select(Automatic1111Checkpoints.Describe).ToArray());

    public static Ok<JsonObject> GetOptions([AsParameters] Automatic1111Services services) => TypedResults.Ok(Options(services.Session.Checkpoint, services.Session.RandnSource));

    public static IResult SetOptions(JsonElement body, [AsParameters] Automatic1111Services services)
        => ApplyOptions(body, services.Catalog, services.Session);

    private static RouteHandlerBuilder ProducesImages(this RouteHandlerBuilder route) => route
        .Produces<Automatic1111ImagesResponse>()
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);

    private static async Task<IResult> GenerateAsync(HttpContext context, Automatic1111Services s, bool img2img)
    {
        var limits = s.Limits.CurrentValue;
        var read = await RequestBodies.ReadObjectAsync(context.Request, limits.MaxBodyBytes);
        if (!read.Ok)
        {
            return read.Problem(limits.MaxBodyBytes);
        }
        using var document = read.Value;
        var parsed = Automatic1111Request.Read(document.RootElement, img2img, s.Catalog, s.Session.Checkpoint, limits, out var errors, s.Session.RandnSource);
        if (parsed is null)
        {
            return Problems.Validation(errors);
        }
        var validation = s.Validator.Validate(parsed.Model.Name, parsed.Input, "override_settings.sd_model_checkpoint");
        if (!validation.IsValid)
        {
            return Problems.Validation(RenameFields(validation.Errors));
        }
        var request = validation.Request!;
        if (parsed.Hires is { } hires)
        {
            // The validator checked the first pass's size; the output is the hires size (checked by the A1111 reader).
            request = request with { Settings = request.Settings with { HiresFix = hires }, Width = hires.Width, Height = hires.Height };
        }
        if (request.Seed + (long)parsed.BatchSize * parsed.Iterations - 1 > uint.MaxValue)
        {
            return Problems.Validation(new Dictionary<string, string[]>
            {
                ["seed"] = [$"seed + batch_size × n_iter - 1 must not pass {uint.MaxValue} (image k uses seed + k)"],
            });
        }
        return await RunBatchesAsync(context, s, parsed, request, img2img);
    }

    /// <summary>The <c>n_iter</c> batches, one job each, one after another; interrupt and skip act between them.</summary>
    private static async Task<IResult> RunBatchesAsync(HttpContext context, Automatic1111Services s, Automatic1111Request parsed,
        GenerationRequest request, bool img2img)
    {
        var (batch, iterations) = (parsed.BatchSize, parsed.Iterations);
        var echo = SynchronousGeneration.EchoInput(parsed.Input);
        var run = s.Session.Begin(img2img ? "scripts_img2img" : "scripts_txt2img", iterations, s.Time.GetUtcNow());
        var outputs = new List<(StoredFile File, long Seed)>();
        try
        {
            for (var i = 0; i < iterations && !run.Interrupted; i++)
            {
                var batchRequest = request.WithSeed(request.Seed + (long)i * batch);
                var submission = new JobSubmission(batchRequest, echo) { BaseUrl = PublicUrls.BaseUrl(context.Request) };
                var (job, failure) = await RunBatchAsync(context, s, run, submission, i, iterations);
                if (failure is not null)
                {
                    return failure;
                }
                if (job!.Status == JobStatus.Canceled)
                {
                    // Skipped: on to the next batch. Interrupted (or canceled through /v1/predictions): A1111 stops
                    // and returns what it has.
                    if (run.ConsumeSkip())
                    {
                        continue;
                    }
                    break;
                }
                for (var k = 0; k < job.Outputs.Count; k++)
                {
                    outputs.Add((job.Outputs[k], batchRequest.Seed + k));
                }
                run.Finished(job.Outputs.Count > 0 ? await s.Store.ReadFileAsync(job.Outputs[^1]) : null);
            }
        }
        finally
        {
            s.Session.End(run);
        }

        var info = Automatic1111Info.Build(request, parsed, outputs.Select(o => o.Seed).ToArray(), run.JobTimestamp);
        var images = new List<string>();
        foreach (var (file, _) in parsed.SendImages ? outputs : [])
        {
            images.Add(Convert.ToBase64String(await s.Store.ReadFileAsync(file) ?? []));
        }
        return TypedResults.Ok(new Automatic1111ImagesResponse(images, parsed.Parameters, info));
    }

    /// <summary>One batch's job, waited for; the failure is the answer when the call cannot go on.</summary>
    private static async Task<(Job? Job, IResult? Failure)> RunBatchAsync(HttpContext context, Automatic1111Services s, Automatic1111Run run,
        JobSubmission submission, int iteration, int iterations)
    {
        var (job, outcome, rejection) = await SynchronousGeneration.RunAsync(s.Dispatcher, submission,
            TimeSpan.FromSeconds(s.QueueOptions.Value.JobDeadlineSeconds), context.RequestAborted,
            onQueued: queued => run.Attach(queued, iteration, s.Dispatcher));
        return (job, Failure(context, s, job, outcome, rejection, $"Batch {iteration + 1} of {iterations}"));
    }

    /// <summary>The answer when a synchronous job did not succeed (null when it finished: succeeded or canceled).</summary>
    internal static IResult? Failure(HttpContext context, Automatic1111Services s, Job? job, WaitOutcome outcome, SubmitRejection rejection, string what)
    {
        var queueOptions = s.QueueOptions.Value;
        return outcome switch
        {
            WaitOutcome.Rejected => rejection == SubmitRejection.ShuttingDown
                ? Problems.ShuttingDown()
                : Problems.QueueFull(context, queueOptions.RetryAfterSeconds, s.Queue.Capacity),
            WaitOutcome.TimedOut => TypedResults.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "Timed out",
                detail: $"{what} was not ready within {queueOptions.JobDeadlineSeconds} s (Queue:JobDeadlineSeconds); it was canceled."),
            WaitOutcome.ClientGone => Results.Empty,
            _ when job!.Status == JobStatus.Failed => TypedResults.Problem(statusCode: StatusCodes.Status500InternalServerError,
                title: "Generation failed", detail: job.Error),
            _ => null,
        };
    }

    private static IResult ApplyOptions(JsonElement body, ModelCatalog catalog, Automatic1111Session session)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["body"] = ["must be a JSON object of options"] });
        }
        var f = new LooseFields(body);
        if (f.String("sd_model_checkpoint") is { } checkpoint)
        {
            if (Automatic1111Checkpoints.Resolve(catalog, checkpoint) is not { } model)
            {
                return Problems.Validation(new Dictionary<string, string[]> { ["sd_model_checkpoint"] = [Automatic1111Checkpoints.Unknown(checkpoint, catalog)] });
            }
            session.Checkpoint = model;
        }
        if (f.String("randn_source") is { } randnSource)
        {
            if (!Automatic1111Session.IsRandnSource(randnSource))
            {
                return Problems.Validation(new Dictionary<string, string[]> { ["randn_source"] = ["must be GPU, CPU or NV"] });
            }
            session.RandnSource = randnSource;
        }
        if (f.Errors.Count > 0)
        {
            return Problems.Validation(f.Errors.ToDictionary(e => e.Key, e => new[] { e.Value }));
        }
        // A1111's set_config returns nothing: FastAPI writes null.
        return Results.Content("null", "application/json");
    }

    /// <summary>The options GET returns: the checkpoint, and A1111 defaults of options frontends read.</summary>
    private static JsonObject Options(ServedModel checkpoint, string randnSource) => new()
    {
        ["randn_source"] = randnSource,
        ["sd_model_checkpoint"] = Automatic1111Checkpoints.Title(checkpoint),
        ["sd_checkpoint_hash"] = Automatic1111Checkpoints.Sha256(checkpoint),
        ["sd_vae"] = "Automatic",
        ["CLIP_stop_at_last_layers"] = 1,
        ["samples_format"] = "png",
        ["eta_noise_seed_delta"] = 0,
        ["live_previews_enable"] = false,
        ["show_progress_every_n_steps"] = -1,
    };

    private static Dictionary<string, string[]> RenameFields(IReadOnlyDictionary<string, string[]> errors)
    {
        var renamed = new Dictionary<string, string[]>();
        foreach (var (field, messages) in errors)
        {
            var name = FieldNames.GetValueOrDefault(field, field);
            renamed[name] = renamed.TryGetValue(name, out var existing) ? [.. existing, .. messages] : messages;
        }
        return renamed;
    }
}
