using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using StableDiffusion.Server.Jobs;

using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>The native, Replicate-compatible predictions API (<c>/v1/predictions</c>).</summary>
internal static class PredictionsApi
{
    private const string CreateDescription = "Queues a generation. `version` names the model (default model when absent). Header `Prefer: wait` (or `wait=N`, N ≤ 60) holds the response until the prediction finishes. Also accepts multipart/form-data: fields `version` and `input` (JSON text), file parts `image`, `mask`, `depth_image`.";
    private const string ListDescription = "Cursor pagination as Replicate: follow `next` (older) and `previous` (newer). `page_size` defaults to the configured maximum. With API keys, each key lists only the predictions it created.";
    private const string CancelDescription = "A queued prediction is canceled at once; a running one stops within one denoising step. Finished predictions are returned unchanged.";
    private const string StreamDescription = "Events: `logs` (one per log line, progress bars included), `output` (one per output URL), `error`, then `done` (`{}` or `{\"reason\":\"canceled\"|\"error\"}`). The prediction id is the credential, as on Replicate.";

    public static RouteGroupBuilder MapPredictions(this RouteGroupBuilder v1)
    {
        v1.MapPost("/predictions", CreatePredictionAsync).DescribeCreate("CreatePrediction", "Create a prediction", CreateDescription);
        v1.MapPost("/models/{owner}/{name}/predictions", CreateModelPredictionAsync).DescribeCreate("CreateModelPrediction",
            "Create a prediction for a model", "As POST /v1/predictions, with the model taken from the path (what `replicate.run(\"owner/name\", ...)` calls).");
        v1.MapGet("/predictions/{id}", GetPredictionAsync).Describe("GetPrediction", "Get a prediction")
            .WithResponseExample(StatusCodes.Status200OK, ReplicateExamples.PredictionExample("succeeded"))
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        v1.MapGet("/predictions", ListPredictionsAsync).Describe("ListPredictions", "List predictions, newest first", ListDescription)
            .WithResponseExample(StatusCodes.Status200OK, ReplicateExamples.Page(ReplicateExamples.PredictionExample("succeeded"),
                next: "https://sd.example.com/v1/predictions?page_size=100&cursor=YjQy"))
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized);
        v1.MapPost("/predictions/{id}/cancel", CancelPredictionAsync).Describe("CancelPrediction", "Cancel a prediction", CancelDescription)
            .WithResponseExample(StatusCodes.Status200OK, ReplicateExamples.PredictionExample("processing"))
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        v1.MapGet("/predictions/{id}/stream", StreamPrediction).AllowAnonymous()
            .Describe("StreamPrediction", "Server-sent events of a prediction", StreamDescription)
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream").ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    public static Task<Results<Created<PredictionResponse>, ProblemHttpResult>> CreatePredictionAsync(
        HttpContext context, [AsParameters] ReplicateServices services)
        => CreateAsync(context, null, services);

    public static Task<Results<Created<PredictionResponse>, ProblemHttpResult>> CreateModelPredictionAsync(
        string owner, string name, HttpContext context, [AsParameters] ReplicateServices services)
        => CreateAsync(context, $"{owner}/{name}", services);

    public static async Task<Results<Ok<PredictionResponse>, ProblemHttpResult>> GetPredictionAsync(string id, HttpContext context, [AsParameters] ReplicateServices services)
        => await services.VisibleAsync(id, context.Request) is { } job
            ? TypedResults.Ok(PredictionMapper.ToResponse(job))
            : Problems.NotFound($"No prediction '{id}' (it may have expired).");

    public static Task<Results<Ok<PredictionPage>, ValidationProblem>> ListPredictionsAsync(HttpContext context, [AsParameters] ReplicateServices services,
        string? cursor, int? page_size)
        => PredictionPages.ListAsync(context, services.Store, services.Limits.Value, services.OwnerOf(context.Request), cursor, page_size);

    public static async Task<Results<Ok<PredictionResponse>, ProblemHttpResult>> CancelPredictionAsync(string id, HttpContext context,
        [AsParameters] ReplicateServices services)
    {
        if (await services.VisibleAsync(id, context.Request) is not { } job)
        {
            return Problems.NotFound($"No prediction '{id}' (it may have expired).");
        }
        services.Dispatcher.Cancel(job);
        // A running job stops within one denoising step; give it a moment so the answer usually says so.
        await Task.WhenAny(job.Completion, Task.Delay(TimeSpan.FromSeconds(2)));
        return TypedResults.Ok(PredictionMapper.ToResponse(job));
    }

    public static Task StreamPrediction(string id, HttpContext context, [AsParameters] ReplicateServices services)
        => PredictionStream.WriteAsync(context, services.Store, id);

    private static async Task<Results<Created<PredictionResponse>, ProblemHttpResult>> CreateAsync(
        HttpContext context, string? modelFromPath, ReplicateServices s)
    {
        var read = await PredictionBody.ReadAsync(context.Request, s);
        if (!read.Ok)
        {
            return Refuse(read, s.Limits.Value.BodyLimit);
        }
        var body = read.Value;
        var validation = s.Validator.Validate(modelFromPath ?? body.Version, body.Input, modelFromPath is null ? "version" : "model");
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
            return InputProblem.For(validation.Errors);
        }
        var (job, rejection) = await s.Dispatcher.SubmitAsync(new JobSubmission(validation.Request!, body.RawInput)
        {
            OutputAsDataUri = body.OutputAsDataUri,
            Webhook = body.Webhook,
            WebhookEvents = body.WebhookEvents,
            BaseUrl = PublicUrls.BaseUrl(context.Request),
            Owner = s.OwnerOf(context.Request),
        });
        if (job is null)
        {
            return rejection == SubmitRejection.ShuttingDown
                ? Problems.ShuttingDown()
                : Problems.QueueFull(context, s.QueueOptions.Value.RetryAfterSeconds, s.Queue.Capacity);
        }
        if (PreferWait(context.Request, s.Limits.Value.MaxWaitSeconds) is { } wait)
        {
            try
            {
                await s.Dispatcher.WaitAsync(job, wait, context.RequestAborted);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
            }
        }
        var response = PredictionMapper.ToResponse(job);
        return TypedResults.Created(response.Urls.Get, response);
    }

    /// <summary>A body that is not JSON is a 400; anything wrong inside it is input validation, a 422.</summary>
    private static Results<Created<PredictionResponse>, ProblemHttpResult> Refuse(BodyRead<PredictionBody> read, long bodyLimit)
        => read.TooLarge
            ? read.Errors is null ? Problems.TooLarge(bodyLimit) : TooLargeProblem.For(read.Errors)
            : read.Errors!.ContainsKey("body") ? InputProblem.Malformed(read.Errors) : InputProblem.For(read.Errors);

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


    private static RouteHandlerBuilder Describe(this RouteHandlerBuilder route, string name, string summary, string? description = null)
    {
        route.WithName(name).WithTags("Predictions").WithSummary(summary);
        return description is null ? route : route.WithDescription(description);
    }

    private static RouteHandlerBuilder DescribeCreate(this RouteHandlerBuilder route, string name, string summary, string description)
        => route.Describe(name, summary, description)
            .Accepts<PredictionRequest>("application/json", "multipart/form-data")
            .DisableAntiforgery()
            .Produces<PredictionResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithRequestExample(ReplicateExamples.RequestExample)
            .WithResponseExample(StatusCodes.Status201Created, ReplicateExamples.PredictionExample("starting"))
            .WithResponseExample(StatusCodes.Status422UnprocessableEntity, ReplicateExamples.ValidationExample)
            .WithResponseExample(StatusCodes.Status429TooManyRequests, ReplicateExamples.QueueFullExample)
            .WithHeader("Prefer", "`wait` or `wait=N` (seconds, at most 60): hold the response until the prediction finishes.")
            .WithHeader("X-Output-As-Data-Uri", "`true`: outputs as data URIs instead of file URLs.");
}
