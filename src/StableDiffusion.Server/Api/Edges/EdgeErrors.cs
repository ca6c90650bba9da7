using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using StableDiffusion.Server.Api.OpenAi;

namespace StableDiffusion.Server.Api.Edges;

/// <summary>
/// Writes an error that happens before (or around) an endpoint — body too large, malformed JSON text, incomplete
/// multipart — in the request's surface shape, naming the field at fault. Problem+json goes through
/// <see cref="IProblemDetailsService"/>, so it carries the same <c>traceId</c> as every other problem.
/// </summary>
internal static class EdgeErrors
{
    public static async Task WriteAsync(HttpContext context, int status, string field, string message)
    {
        context.Response.StatusCode = status;
        if (ApiSurfaces.Of(context) == ApiSurface.OpenAi)
        {
            await context.Response.WriteAsJsonAsync(OpenAiProblemWriter.Shape(status, $"'{field}' {message}", field, TraceId(context)));
            return;
        }
        var problem = new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = status,
            Title = status == StatusCodes.Status413PayloadTooLarge ? "Body too large" : "The request is invalid",
            Detail = $"'{field}' {message}.",
        };
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await service.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    /// <summary>The id a client quotes and the logs carry: the W3C trace id when tracing is on.</summary>
    public static string TraceId(HttpContext context) => Activity.Current?.Id ?? context.TraceIdentifier;
}
