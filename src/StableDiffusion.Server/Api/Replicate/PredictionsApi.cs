using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>The native, Replicate-compatible predictions API (<c>/v1/predictions</c>).</summary>
public static class PredictionsApi
{
    public static RouteGroupBuilder MapPredictions(this RouteGroupBuilder v1)
    {
        v1.MapPost("/predictions", (HttpContext context, GenerationRequestValidator validator, JobDispatcher dispatcher,
                IOptions<LimitsOptions> limits, IOptions<QueueOptions> queue, IOptionsMonitor<WebhookOptions> webhooks, GenerationQueue q, IOptionsMonitor<AuthOptions> auth, JobStore store, TimeProvider time)
                => CreateAsync(context, null, validator, dispatcher, limits.Value, queue.Value, webhooks.CurrentValue, q, auth.CurrentValue, store, time))
            .WithName("CreatePrediction")
            .WithTags("Predictions")
            .WithSummary("Create a prediction")
            .WithDescription("Queues a generation. `version` names the model (default model when absent). Header `Prefer: wait` (or `wait=N`, N ≤ 60) holds the response until the prediction finishes. Also accepts multipart/form-data: fields `version` and `input` (JSON text), file parts `image`, `mask`, `depth_image`.")
            .Accepts<PredictionRequest>("application/json", "multipart/form-data")
            .DisableAntiforgery()
            .Produces<PredictionResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        v1.MapPost("/models/{owner}/{name}/predictions", (string owner, string name, HttpContext context, GenerationRequestValidator validator,
                JobDispatcher dispatcher, IOptions<LimitsOptions> limits, IOptions<QueueOptions> queue, IOptionsMonitor<WebhookOptions> webhooks, GenerationQueue q, IOptionsMonitor<AuthOptions> auth, JobStore store, TimeProvider time)
                => CreateAsync(context, $"{owner}/{name}", validator, dispatcher, limits.Value, queue.Value, webhooks.CurrentValue, q, auth.CurrentValue, store, time))
            .WithName("CreateModelPrediction")
            .WithTags("Predictions")
            .WithSummary("Create a prediction for a model")
            .WithDescription("As POST /v1/predictions, with the model taken from the path (what `replicate.run(\"owner/name\", ...)` calls).")
            .Accepts<PredictionRequest>("application/json", "multipart/form-data")
            .Produces<PredictionResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/predictions/{id}", Results<Ok<PredictionResponse>, ProblemHttpResult> (string id, HttpContext context, JobStore store,
                IOptionsMonitor<AuthOptions> auth)
                => Visible(store, id, context, auth.CurrentValue) is { } job
                    ? TypedResults.Ok(PredictionMapper.ToResponse(job))
                    : Problems.NotFound($"No prediction '{id}' (it may have expired)."))
            .WithName("GetPrediction")
            .WithTags("Predictions")
            .WithSummary("Get a prediction")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapGet("/predictions", Results<Ok<PredictionPage>, ValidationProblem> (HttpContext context, JobStore store, IOptions<LimitsOptions> limits,
                IOptionsMonitor<AuthOptions> auth, string? cursor, int? page_size)
                => List(context, store, limits.Value, ApiKeyFilter.OwnerOf(context.Request, auth.CurrentValue.ApiKeys), cursor, page_size))
            .WithName("ListPredictions")
            .WithTags("Predictions")
            .WithSummary("List predictions, newest first")
            .WithDescription("Cursor pagination as Replicate: follow `next` (older) and `previous` (newer). `page_size` defaults to the configured maximum. With API keys, each key lists only the predictions it created.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        v1.MapPost("/predictions/{id}/cancel", async Task<Results<Ok<PredictionResponse>, ProblemHttpResult>> (string id, HttpContext context,
                JobStore store, JobDispatcher dispatcher, IOptionsMonitor<AuthOptions> auth) =>
            {
                if (Visible(store, id, context, auth.CurrentValue) is not { } job)
                {
                    return Problems.NotFound($"No prediction '{id}' (it may have expired).");
                }
                dispatcher.Cancel(job);
                // A running job stops within one denoising step; give it a moment so the answer usually says so.
                await Task.WhenAny(job.Completion, Task.Delay(TimeSpan.FromSeconds(2)));
                return TypedResults.Ok(PredictionMapper.ToResponse(job));
            })
            .WithName("CancelPrediction")
            .WithTags("Predictions")
            .WithSummary("Cancel a prediction")
            .WithDescription("A queued prediction is canceled at once; a running one stops within one denoising step. Finished predictions are returned unchanged.")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapGet("/predictions/{id}/stream", (string id, HttpContext context, JobStore store) => PredictionStream.WriteAsync(context, store, id))
            .AllowAnonymous()
            .WithName("StreamPrediction")
            .WithTags("Predictions")
            .WithSummary("Server-sent events of a prediction")
            .WithDescription("Events: `logs` (one per log line, progress bars included), `output` (one per output URL), `error`, then `done` (`{}` or `{\"reason\":\"canceled\"|\"error\"}`). The prediction id is the credential, as on Replicate.")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return v1;
    }

    private static async Task<Results<Created<PredictionResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext context, string? modelFromPath, GenerationRequestValidator validator, JobDispatcher dispatcher,
        LimitsOptions limits, QueueOptions queueOptions, WebhookOptions webhookOptions, GenerationQueue queue, AuthOptions auth,
        JobStore store, TimeProvider time)
    {
        if (context.Request.ContentLength > limits.BodyLimit)
        {
            return Problems.TooLarge(limits.BodyLimit);
        }
        PredictionBody? body;
        Dictionary<string, string[]>? errors;
        bool tooLarge;
        if (context.Request.HasFormContentType)
        {
            var (json, formErrors, imageTooLarge) = await MultipartPrediction.ToJsonAsync(context.Request, store, time, limits);
            if (json is null)
            {
                return imageTooLarge ? TooLargeProblem.For(formErrors!) : Problems.Validation(formErrors!);
            }
            (body, errors, tooLarge) = await PredictionBody.ParseAsync(json, context.Request, webhookOptions.AllowPrivateTargets);
        }
        else
        {
            (body, errors, tooLarge) = await PredictionBody.ReadAsync(context.Request, webhookOptions.AllowPrivateTargets, limits.BodyLimit);
        }
        if (tooLarge)
        {
            return Problems.TooLarge(limits.BodyLimit);
        }
        if (body is null)
        {
            return Problems.Validation(errors!);
        }
        var validation = validator.Validate(modelFromPath ?? body.Version, body.Input, modelFromPath is null ? "version" : "model");
        if (validation.UnknownModel)
        {
            return Problems.NotFound(string.Join(" ", validation.Errors.Values.SelectMany(e => e)));
        }
        if (validation.TooLarge)
        {
            return TooLargeProblem.For(validation.Errors);
        }
        if (!validation.IsValid)
        {
            return Problems.Validation(validation.Errors.ToDictionary());
        }
        var (job, rejection) = dispatcher.Submit(new JobSubmission(validation.Request!, body.RawInput)
        {
            OutputAsDataUri = body.OutputAsDataUri,
            Webhook = body.Webhook,
            WebhookEvents = body.WebhookEvents,
            BaseUrl = PublicUrls.BaseUrl(context.Request),
            Owner = ApiKeyFilter.OwnerOf(context.Request, auth.ApiKeys),
        });
        if (job is null)
        {
            return rejection == SubmitRejection.ShuttingDown
                ? Problems.ShuttingDown()
                : Problems.QueueFull(context, queueOptions.RetryAfterSeconds, queue.Capacity);
        }
        if (PreferWait(context.Request, limits.MaxWaitSeconds) is { } wait)
        {
            await Task.WhenAny(job.Completion, Task.Delay(wait, context.RequestAborted));
        }
        var response = PredictionMapper.ToResponse(job);
        return TypedResults.Created(response.Urls.Get, response);
    }

    /// <summary>The job, when it exists and the caller's key created it (another key's prediction is a 404, as on Replicate).</summary>
    private static Job? Visible(JobStore store, string id, HttpContext context, AuthOptions auth)
        => store.Find(id) is { } job && job.Owner == ApiKeyFilter.OwnerOf(context.Request, auth.ApiKeys) ? job : null;

    /// <summary>Parses RFC 7240 <c>Prefer: wait</c> / <c>wait=N</c>; null when the client does not want to wait.</summary>
    internal static TimeSpan? PreferWait(HttpRequest request, int maxSeconds)
    {
        foreach (var header in request.Headers["Prefer"])
        {
            foreach (var part in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (part.Equals("wait", StringComparison.OrdinalIgnoreCase))
                {
                    return TimeSpan.FromSeconds(maxSeconds);
                }
                if (part.StartsWith("wait=", StringComparison.OrdinalIgnoreCase)
                    && int.TryParse(part.AsSpan(5), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
                {
                    return TimeSpan.FromSeconds(Math.Min(seconds, maxSeconds));
                }
            }
        }
        return null;
    }

    private static Results<Ok<PredictionPage>, ValidationProblem> List(HttpContext context, JobStore store, LimitsOptions limits, string? owner, string? cursor, int? pageSize)
    {
        var size = pageSize ?? limits.MaxPageSize;
        if (size < 1 || size > limits.MaxPageSize)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["page_size"] = [$"must be between 1 and {limits.MaxPageSize}"] });
        }
        long? before = null;
        long? after = null;
        if (cursor is not null)
        {
            if (!TryDecodeCursor(cursor, out var direction, out var sequence))
            {
                return Problems.Validation(new Dictionary<string, string[]> { ["cursor"] = ["is not a cursor this server issued"] });
            }
            if (direction == 'b') before = sequence; else after = sequence;
        }
        IReadOnlyList<Job> page;
        bool older;
        if (after is { } a)
        {
            page = store.PageNewer(owner, a, size);
            older = page.Count > 0 && store.Page(owner, page[^1].Sequence, 1, out _).Count > 0;
        }
        else
        {
            page = store.Page(owner, before, size, out older);
        }
        var baseUrl = $"{PublicUrls.BaseUrl(context.Request)}/v1/predictions?page_size={size}&cursor=";
        var next = older && page.Count > 0 ? baseUrl + EncodeCursor('b', page[^1].Sequence) : null;
        var previous = page.Count > 0 && (before is not null || after is not null) && store.AnyNewerThan(owner, page[0].Sequence)
            ? baseUrl + EncodeCursor('a', page[0].Sequence) : null;
        return TypedResults.Ok(new PredictionPage(next, previous, page.Select(PredictionMapper.ToResponse).ToArray()));
    }

    private static string EncodeCursor(char direction, long sequence)
        => Convert.ToBase64String(Encoding.ASCII.GetBytes($"{direction}{sequence}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeCursor(string cursor, out char direction, out long sequence)
    {
        direction = default;
        sequence = 0;
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(padded));
            direction = text.Length > 0 ? text[0] : default;
            return direction is 'a' or 'b' && long.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
