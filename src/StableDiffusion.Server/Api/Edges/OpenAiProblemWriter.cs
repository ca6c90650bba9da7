using Microsoft.AspNetCore.Mvc;
using StableDiffusion.Server.Api.OpenAi;

namespace StableDiffusion.Server.Api.Edges;

/// <summary>
/// Every problem written on <c>/v1/images/*</c> — status-code pages (404, 405, 415), the exception handler (400 for
/// Kestrel's bad requests, 500 for real faults), rate-limit rejections — in OpenAI's error shape, so the openai
/// clients raise their typed errors instead of failing to parse a problem+json body. Registered before ASP.NET's
/// default writer, which still writes every other path.
/// </summary>
internal sealed class OpenAiProblemWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => ApiSurfaces.Of(context.HttpContext) == ApiSurface.OpenAi;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var http = context.HttpContext;
        int status = problem.Status ?? http.Response.StatusCode;
        string? param = null;
        string message = problem.Detail ?? problem.Title ?? "The request failed.";
        if (problem is HttpValidationProblemDetails { Errors.Count: > 0 } validation)
        {
            param = validation.Errors.Keys.First();
            message = string.Join("; ", validation.Errors.SelectMany(e => e.Value.Select(m => $"'{e.Key}' {m}")));
        }
        http.Response.StatusCode = status;
        return new ValueTask(http.Response.WriteAsJsonAsync(Shape(status, message, param, EdgeErrors.TraceId(http))));
    }

    /// <summary>OpenAI's <c>{error:{message,type,param,code}}</c>; a server fault's message carries the trace id.</summary>
    public static OpenAiErrorResponse Shape(int status, string message, string? param, string traceId)
    {
        var (type, code) = status switch
        {
            StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key"),
            StatusCodes.Status404NotFound => ("invalid_request_error", "not_found"),
            StatusCodes.Status405MethodNotAllowed => ("invalid_request_error", "method_not_allowed"),
            StatusCodes.Status413PayloadTooLarge => ("invalid_request_error", "request_too_large"),
            StatusCodes.Status415UnsupportedMediaType => ("invalid_request_error", "unsupported_media_type"),
            StatusCodes.Status429TooManyRequests => ("requests", "rate_limit_exceeded"),
            >= 500 => ("server_error", "internal_error"),
            _ => ("invalid_request_error", "invalid_request"),
        };
        if (status == StatusCodes.Status415UnsupportedMediaType && param is null)
        {
            message = "The body must be JSON (Content-Type: application/json); /v1/images/edits takes multipart/form-data.";
            param = "Content-Type";
        }
        if (status >= 500 && !message.Contains(traceId, StringComparison.Ordinal))
        {
            message = $"{message} (trace id {traceId})";
        }
        return new OpenAiErrorResponse(new OpenAiError(message, type, param, code));
    }
}
