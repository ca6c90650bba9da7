using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace StableDiffusion.Server.Api.Edges;

/// <summary>
/// Exceptions that are the client's doing, answered as the 4xx they are: Kestrel's <see cref="BadHttpRequestException"/>
/// (body over <c>MaxRequestBodySize</c> while reading — chunked bodies only find out then —, malformed chunked encoding,
/// a body that stops early, minimal-API binding failures) and malformed form or multipart data. Everything else is a
/// server fault: logged once at error level with the trace id, and answered 500 with that trace id in the surface's
/// shape (ASP.NET's own log line is suppressed for exceptions a handler handled).
/// </summary>
internal sealed class EdgeExceptionHandler(ILogger<EdgeExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, message) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e => (e.StatusCode, $"is larger than the server accepts ({e.Message})"),
            BadHttpRequestException e => (e.StatusCode, $"could not be read: {e.Message}"),
            InvalidDataException e when context.Request.HasFormContentType => (StatusCodes.Status400BadRequest, $"is malformed form data: {e.Message}"),
            _ => (0, ""),
        };
        if (context.Response.HasStarted || (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            return false; // nothing to answer (ASP.NET logs a client that went away at debug level)
        }
        context.Response.Clear();
        if (status != 0)
        {
            logger.LogInformation("Answered {Status} for a malformed request body: {Message}", status, exception.Message);
            await EdgeErrors.WriteAsync(context, status, "body", message);
            return true;
        }

        // A real fault: one error line carrying the trace id the client sees, then 500 in the surface's shape.
        var traceId = EdgeErrors.TraceId(context);
        logger.LogError(exception, "Server fault on {Method} {Path}, answered 500 with trace id {TraceId}", context.Request.Method, context.Request.Path, traceId);
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status500InternalServerError,
            Title = "An error occurred while processing your request.",
            Detail = $"A server fault, not a problem with the request; quote trace id {traceId} when reporting it.",
        };
        await context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
        return true;
    }
}
