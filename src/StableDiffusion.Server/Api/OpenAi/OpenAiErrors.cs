using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// The errors of the OpenAI surface, shaped as OpenAI's API shapes them so that the official clients raise their
/// typed errors (<c>BadRequestError</c>, <c>RateLimitError</c>, …) with our message and <c>param</c>.
/// </summary>
internal static class OpenAiErrors
{
    public static JsonHttpResult<OpenAiErrorResponse> Of(int status, string message, string type, string? param = null, string? code = null)
        => TypedResults.Json(new OpenAiErrorResponse(new OpenAiError(message, type, param, code)), statusCode: status);

    public static JsonHttpResult<OpenAiErrorResponse> Invalid(string message, string? param, string? code = "invalid_value")
        => Of(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    /// <summary>A validation failure: the first field at fault is <c>param</c>; the message names every field.</summary>
    public static JsonHttpResult<OpenAiErrorResponse> Validation(IReadOnlyDictionary<string, string[]> errors)
        => Invalid($"Invalid request: {FieldMessages.Sentence(errors)}.", errors.Keys.FirstOrDefault());

    public static JsonHttpResult<OpenAiErrorResponse> ModelNotFound(string message)
        => Of(StatusCodes.Status404NotFound, message, "invalid_request_error", "model", "model_not_found");

    public static JsonHttpResult<OpenAiErrorResponse> TooLarge(long max)
        => Of(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {max} bytes.", "invalid_request_error", null, "request_too_large");

    /// <summary>Queue full: OpenAI's rate-limit shape, with <c>Retry-After</c> (the openai clients honour it when they retry).</summary>
    public static JsonHttpResult<OpenAiErrorResponse> QueueFull(HttpContext context, int retryAfterSeconds, int capacity)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Of(StatusCodes.Status429TooManyRequests,
            $"All {capacity} queue slots are taken; retry after {retryAfterSeconds} s. No image was generated.",
            "requests", null, "rate_limit_exceeded");
    }

    public static JsonHttpResult<OpenAiErrorResponse> ShuttingDown()
        => Of(StatusCodes.Status503ServiceUnavailable, "The server is shutting down and accepts no new work.", "server_error", null, "service_unavailable");

    public static JsonHttpResult<OpenAiErrorResponse> TimedOut(int seconds)
        => Of(StatusCodes.Status504GatewayTimeout, $"The image was not ready within {seconds} s (Queue:JobDeadlineSeconds); the job was canceled.",
            "server_error", null, "timeout");

    public static JsonHttpResult<OpenAiErrorResponse> Failed(string? error)
        => Of(StatusCodes.Status500InternalServerError, $"The generation failed: {error ?? "unknown error"}", "server_error");

    public static JsonHttpResult<OpenAiErrorResponse> Unauthorized()
        => Of(StatusCodes.Status401Unauthorized, "Incorrect API key provided. Send a configured key as 'Authorization: Bearer <key>'.",
            "invalid_request_error", null, "invalid_api_key");
}
