using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api;

/// <summary>
/// The AUTOMATIC1111-compatible surface (<c>/sdapi/v1</c>) that frontends such as Open WebUI and SillyTavern speak.
/// A thin translation onto <see cref="GenerationInput"/>: the one validator, the one queue; <c>n_iter</c> batches are
/// jobs run one after another with seeds continuing <c>seed + k</c>. Unknown fields are ignored, as A1111 ignores them.
/// </summary>
public static class Automatic1111Api
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

    public static WebApplication MapAutomatic1111(this WebApplication app)
    {
        var session = new Automatic1111Session(app.Services.GetRequiredService<ModelCatalog>());
        var sdapi = app.MapGroup("/sdapi/v1")
            .AddEndpointFilter<Automatic1111KeyFilter>()
            .RequireRateLimiting(ApiEdges.RateLimitPolicy)
            .WithTags("AUTOMATIC1111");

        sdapi.MapPost("/txt2img", (HttpContext context, [AsParameters] Dependencies services) => GenerateAsync(context, session, services, img2img: false))
            .WithName("A1111Txt2Img")
            .Accepts<JsonObject>("application/json")
            .WithRequestExample(new JsonObject
            {
                ["prompt"] = "a watercolor fox", ["negative_prompt"] = "blurry", ["steps"] = 25, ["cfg_scale"] = 7, ["width"] = 512,
                ["height"] = 512, ["seed"] = -1, ["sampler_name"] = "DPM++ 2M", ["scheduler"] = "Karras", ["batch_size"] = 1, ["n_iter"] = 1,
            })
            .WithSummary("Text to image (AUTOMATIC1111 API)")
            .WithDescription("A1111's `StableDiffusionTxt2ImgProcessingAPI`: `prompt`, `negative_prompt`, `steps`, `cfg_scale`, `width`, `height`, `seed` (-1 = random), `sampler_name` (+ `scheduler`), `batch_size`, `n_iter`, `override_settings.sd_model_checkpoint`. Unknown fields are ignored. Answers `{images, parameters, info}` with `info` a JSON string.")
            .Produces<Automatic1111ImagesResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        sdapi.MapPost("/img2img", (HttpContext context, [AsParameters] Dependencies services) => GenerateAsync(context, session, services, img2img: true))
            .WithName("A1111Img2Img")
            .WithSummary("Image to image and inpainting (AUTOMATIC1111 API)")
            .WithDescription("As txt2img, plus `init_images` (base64, the first is used), `mask` (white = repaint) and `denoising_strength` (default 0.75). A model that cannot do the task answers 400 naming the reason.")
            .Produces<Automatic1111ImagesResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        sdapi.MapGet("/progress", (TimeProvider time, bool? skip_current_image)
                => TypedResults.Ok(session.Progress(time.GetUtcNow(), includeImage: skip_current_image == false)))
            .WithName("A1111Progress")
            .WithSummary("Progress of the current A1111 call")
            .WithDescription("A1111's formula: 0.01 + finished batches / n_iter + this batch's steps. `current_image` is null (no live previews) unless `skip_current_image=false` is passed, then it is the last finished image of the call, if any.");

        sdapi.MapPost("/interrupt", (JobDispatcher dispatcher) => { session.Interrupt(dispatcher); return TypedResults.Ok(new JsonObject()); })
            .WithName("A1111Interrupt")
            .WithSummary("Interrupt the current A1111 call (its running job is canceled; finished batches are returned)");

        sdapi.MapPost("/skip", (JobDispatcher dispatcher) => { session.Skip(dispatcher); return TypedResults.Ok(new JsonObject()); })
            .WithName("A1111Skip")
            .WithSummary("Skip the running batch of the current A1111 call");

        sdapi.MapGet("/samplers", () => TypedResults.Ok(Automatic1111Samplers.List))
            .WithName("A1111Samplers")
            .WithSummary("Samplers, by A1111 name");

        sdapi.MapGet("/schedulers", () => TypedResults.Ok(Automatic1111Samplers.Schedulers))
            .WithName("A1111Schedulers")
            .WithSummary("Schedule types (A1111 1.9+)");

        sdapi.MapGet("/sd-models", (ModelCatalog catalog) => TypedResults.Ok(catalog.Models.Select(Automatic1111Checkpoints.Describe).ToArray()))
            .WithName("A1111Models")
            .WithSummary("Served models as A1111 checkpoints");

        sdapi.MapGet("/options", () => TypedResults.Ok(Options(session.Checkpoint, session.RandnSource)))
            .WithName("A1111GetOptions")
            .WithSummary("Options (sd_model_checkpoint is the model A1111 calls use)");

        sdapi.MapPost("/options", (JsonElement body, ModelCatalog catalog) => SetOptions(body, catalog, session))
            .WithName("A1111SetOptions")
            .WithSummary("Set options")
            .WithDescription("`sd_model_checkpoint` (title, name or hash from /sd-models) switches the model A1111 calls use; `randn_source` (GPU, CPU or NV: GPU and NV draw A1111's NV noise, CPU torch's CPU generator) sets the noise source of later A1111 calls; other options are accepted and ignored, so a client may post back what GET returned.")
            .ProducesValidationProblem();

        // What SillyTavern's settings page also asks for; we have no hires-fix upscalers or separate VAEs.
        sdapi.MapGet("/upscalers", () => TypedResults.Ok(new[] { new Automatic1111Upscaler("None", null, null, null, 4) }))
            .WithName("A1111Upscalers").WithSummary("Upscalers (none: hires fix is not offered)");
        sdapi.MapGet("/latent-upscale-modes", () => TypedResults.Ok(Array.Empty<JsonObject>()))
            .WithName("A1111LatentUpscaleModes").WithSummary("Latent upscale modes (none)");
        sdapi.MapGet("/sd-vae", () => TypedResults.Ok(Array.Empty<JsonObject>()))
            .WithName("A1111Vaes").WithSummary("Separate VAEs (none: each model folder has its own)");
        return app;
    }

    /// <summary>The services a generation needs, bundled so the route handlers stay short.</summary>
    public sealed record Dependencies(
        ModelCatalog Catalog,
        GenerationRequestValidator Validator,
        JobDispatcher Dispatcher,
        GenerationQueue Queue,
        IOptionsMonitor<LimitsOptions> Limits,
        IOptions<QueueOptions> QueueOptions,
        TimeProvider Time);

    private static async Task<IResult> GenerateAsync(HttpContext context, Automatic1111Session session, Dependencies s, bool img2img)
    {
        var limits = s.Limits.CurrentValue;
        var (document, bodyError, tooLarge) = await RequestBodies.ReadObjectAsync(context.Request, limits.MaxBodyBytes);
        if (tooLarge)
        {
            return Problems.TooLarge(limits.MaxBodyBytes);
        }
        if (document is null)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["body"] = [bodyError!] });
        }
        using (document)
        {
            var parsed = Automatic1111Request.Read(document.RootElement, img2img, s.Catalog, session.Checkpoint, limits, out var errors, session.RandnSource);
            if (parsed is null)
            {
                return Problems.Validation(errors);
            }
            var (input, model, batch, iterations) = (parsed.Input, parsed.Model, parsed.BatchSize, parsed.Iterations);
            var validation = s.Validator.Validate(model.Name, input, "override_settings.sd_model_checkpoint");
            if (!validation.IsValid)
            {
                return Problems.Validation(RenameFields(validation.Errors));
            }
            var request = validation.Request!;
            if (request.Seed + (long)batch * iterations - 1 > uint.MaxValue)
            {
                return Problems.Validation(new Dictionary<string, string[]>
                {
                    ["seed"] = [$"seed + batch_size × n_iter - 1 must not pass {uint.MaxValue} (image k uses seed + k)"],
                });
            }

            var echo = SynchronousGeneration.EchoInput(input);
            var queueOptions = s.QueueOptions.Value;
            var run = session.Begin(img2img ? "scripts_img2img" : "scripts_txt2img", iterations, s.Time.GetUtcNow());
            var outputs = new List<(StoredFile File, long Seed)>();
            try
            {
                for (var i = 0; i < iterations && !run.Interrupted; i++)
                {
                    var batchRequest = request with { Seed = request.Seed + (long)i * batch };
                    var submission = new JobSubmission(batchRequest, echo) { BaseUrl = PublicUrls.BaseUrl(context.Request) };
                    var iteration = i;
                    var (job, outcome, rejection) = await SynchronousGeneration.RunAsync(s.Dispatcher, submission,
                        TimeSpan.FromSeconds(queueOptions.JobDeadlineSeconds), context.RequestAborted,
                        onQueued: queued => run.Attach(queued, iteration, s.Dispatcher));
                    switch (outcome)
                    {
                        case WaitOutcome.Rejected:
                            return rejection == SubmitRejection.ShuttingDown
                                ? Problems.ShuttingDown()
                                : Problems.QueueFull(context, queueOptions.RetryAfterSeconds, s.Queue.Capacity);
                        case WaitOutcome.TimedOut:
                            return TypedResults.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "Timed out",
                                detail: $"Batch {i + 1} of {iterations} was not ready within {queueOptions.JobDeadlineSeconds} s (Queue:JobDeadlineSeconds); it was canceled.");
                        case WaitOutcome.ClientGone:
                            return Results.Empty;
                    }
                    if (job!.Status == JobStatus.Failed)
                    {
                        return TypedResults.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Generation failed",
                            detail: job.Error);
                    }
                    if (job.Status == JobStatus.Canceled)
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
                    run.Finished(job.Outputs.Count > 0 ? job.Outputs[^1].Bytes : null);
                }
            }
            finally
            {
                session.End(run);
            }

            var info = Automatic1111Info.Build(request, model, outputs.Select(o => o.Seed).ToArray(), batch, parsed.DenoisingStrength,
                parsed.ScheduleType, run.JobTimestamp);
            var images = parsed.SendImages ? outputs.Select(o => Convert.ToBase64String(o.File.Bytes)).ToArray() : [];
            return TypedResults.Ok(new Automatic1111ImagesResponse(images, parsed.Parameters, info));
        }
    }

    private static IResult SetOptions(JsonElement body, ModelCatalog catalog, Automatic1111Session session)
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
