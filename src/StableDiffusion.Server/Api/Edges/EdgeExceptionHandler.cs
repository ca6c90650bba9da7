using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace StableDiffusion.Server.Api.Edges;

/// <summary>
/// Exceptions that are the client's doing, answered as the 4xx they are: Kestrel's <see cref="BadHttpRequestException"/>
/// (body over <c>MaxRequestBodySize</c> while reading — chunked bodies only find out then —, malformed chunked encoding,
/// a body that stops early, minimal-API binding failures) and malformed form or multipart data. Everything else is a
/// server fault: ASP.NET's handler logs it and answers 500 with the trace id, in the surface's shape.
/// </summary>
public sealed class EdgeExceptionHandler(ILogger<EdgeExceptionHandler> logger) : IExceptionHandler
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
        if (status == 0 || context.Response.HasStarted)
        {
            return false;
        }
        logger.LogInformation("Answered {Status} for a malformed request body: {Message}", status, exception.Message);
        context.Response.Clear();
        await EdgeErrors.WriteAsync(context, status, "body", message);
        return true;
    }
}
