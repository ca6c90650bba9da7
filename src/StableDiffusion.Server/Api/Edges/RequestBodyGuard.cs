using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Api.Edges;

/// <summary>
/// Reads every API request body once, before its endpoint, and answers in the surface's shape what no endpoint should
/// have to: a body over the limit, declared or chunked (413, at the byte that passes it); JSON text whose strings are
/// not valid Unicode (400 naming the field); multipart data that is malformed or never closes its last boundary
/// (400). The body is then handed on, rewound: JSON in memory (the endpoints buffer it anyway), multipart spilled to
/// a temporary file past 64 KB. Cost: one linear pass over at most <see cref="LimitsOptions.BodyLimit"/> bytes.
/// </summary>
internal sealed class RequestBodyGuard(RequestDelegate next, IOptionsMonitor<LimitsOptions> limits)
{
    private const int MultipartMemoryThreshold = 64 * 1024;

    /// <summary>ASP.NET's default <see cref="FormOptions.ValueCountLimit"/>: no endpoint takes more than a handful.</summary>
    private const int MaxParts = 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        bool isApi = request.Path.StartsWithSegments("/v1") || request.Path.StartsWithSegments("/sdapi");
        if (!isApi)
        {
            await next(context);
            return;
        }
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            if (EmptyBodyProblem(context) is { } problem)
            {
                await EdgeErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "body", problem);
                return;
            }
            await next(context);
            return;
        }

        long limit = limits.CurrentValue.BodyLimit;
        if (request.ContentLength > limit)
        {
            await TooLargeAsync(context, limit);
            return;
        }

        // Whatever the declared type, a body that is not multipart gets the JSON check: the JSON endpoints read their
        // body as JSON whatever its Content-Type says (A1111 clients send none), and text that is not JSON costs the check
        // one failed token.
        bool passed = request.HasFormContentType && request.ContentType!.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)
            ? await CheckMultipartAsync(context, limit)
            : await CheckJsonAsync(context, limit);
        if (passed)
        {
            await next(context);
        }
    }

    /// <summary>Why an empty body cannot be answered by its endpoint: multipart needs at least its closing boundary, and
    /// an endpoint that declares a required JSON body (its <see cref="IAcceptsMetadata"/>) needs one — model binding would
    /// otherwise fail without naming anything. Endpoints with no declared body (cancel, interrupt) take an empty one.</summary>
    private static string? EmptyBodyProblem(HttpContext context)
    {
        if (context.Request.HasFormContentType && context.Request.ContentType!.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            return "is empty: multipart data needs at least its closing boundary";
        }
        var accepts = context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>();
        return accepts is { RequestType: not null, IsOptional: false } && accepts.ContentTypes.Any(t => t.Contains("json", StringComparison.OrdinalIgnoreCase))
            && HttpMethods.IsPost(context.Request.Method) && !(context.Request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) ?? false)
            ? "is required: send a JSON object"
            : null;
    }

    private static async Task<bool> CheckJsonAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (request.ContentType is { } contentType && MediaTypeHeaderValue.TryParse(contentType, out var media)
            && media.Charset.HasValue && !IsKnownCharset(media.Charset.Value!))
        {
            // ASP.NET's JSON binding throws on an unknown charset (a 500); no client means anything but UTF-8 here.
            await EdgeErrors.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Content-Type",
                $"has charset '{media.Charset}', which is not a known encoding; send UTF-8 JSON");
            return false;
        }
        var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 16 * 1024, limit));
        if (!await CopyWithinLimitAsync(request.Body, buffer, limit, context.RequestAborted))
        {
            await TooLargeAsync(context, limit);
            return false;
        }
        buffer.Position = 0;
        request.Body = buffer;
        context.Response.RegisterForDispose(buffer);
        if (JsonTextCheck.FindInvalidString(new ReadOnlySpan<byte>(buffer.GetBuffer(), 0, (int)buffer.Length)) is var (field, problem))
        {
            // The native surface names input fields bare, as its validator does (prompt, not input.prompt).
            if (ApiSurfaces.Of(context) == ApiSurface.Native && field.StartsWith("input.", StringComparison.Ordinal))
            {
                field = field["input.".Length..];
            }
            await EdgeErrors.WriteAsync(context, StatusCodes.Status400BadRequest, field, problem);
            return false;
        }
        return true;
    }

    private static bool IsKnownCharset(string charset)
    {
        try
        {
            System.Text.Encoding.GetEncoding(HeaderUtilities.RemoveQuotes(charset).Value!);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<bool> BufferFormAsync(HttpContext context, long limit)
    {
        context.Request.EnableBuffering(MultipartMemoryThreshold);
        if (!await CopyWithinLimitAsync(context.Request.Body, Stream.Null, limit, context.RequestAborted))
        {
            await TooLargeAsync(context, limit);
            return false;
        }
        context.Request.Body.Position = 0;
        return true;
    }

    private static async Task<bool> CheckMultipartAsync(HttpContext context, long limit)
    {
        if (!await BufferFormAsync(context, limit))
        {
            return false;
        }
        var request = context.Request;
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 70)
        {
            // RFC 2046 §5.1.1: 1 to 70 characters.
            await EdgeErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "body", "is multipart without a valid boundary parameter in its Content-Type");
            return false;
        }
        try
        {
            var reader = new MultipartReader(boundary, request.Body);
            int parts = 0;
            while (await reader.ReadNextSectionAsync(context.RequestAborted) is { } section)
            {
                if (++parts > MaxParts)
                {
                    // ASP.NET's form reader refuses past this many values anyway (FormOptions.ValueCountLimit); refusing
                    // here keeps a body of thousands of empty parts from costing a second of CPU first.
                    await EdgeErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "body", $"has more than {MaxParts} multipart parts");
                    return false;
                }
                var disposition = section.GetContentDispositionHeader();
                if (disposition is { } d && !d.IsFileDisposition() && d.Name.HasValue)
                {
                    // Text fields may carry JSON (the native API's 'input', 'webhook_events_filter'): same check as a JSON body.
                    using var text = new MemoryStream();
                    await section.Body.CopyToAsync(text, context.RequestAborted);
                    if (JsonTextCheck.FindInvalidString(new ReadOnlySpan<byte>(text.GetBuffer(), 0, (int)text.Length)) is var (path, problem))
                    {
                        var name = HeaderUtilities.RemoveQuotes(d.Name).Value!;
                        await EdgeErrors.WriteAsync(context, StatusCodes.Status400BadRequest, path == "body" ? name : $"{name}.{path}", problem);
                        return false;
                    }
                    continue;
                }
                await section.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            await EdgeErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "body",
                $"is not complete multipart data (every part must end with the boundary and the last with '--boundary--'): {e.Message}");
            return false;
        }
        request.Body.Position = 0;
        return true;
    }

    /// <summary>Copies a body, counting as it arrives: false once it passes <paramref name="limit"/> (a chunked body has no
    /// length to refuse up front; Kestrel's own limit is the same number and throws, which the exception handler maps).</summary>
    private static async Task<bool> CopyWithinLimitAsync(Stream body, Stream target, long limit, CancellationToken cancellationToken)
    {
        var chunk = new byte[16 * 1024];
        long total = 0;
        int read;
        while ((read = await ReadBodyAsync(body, chunk, cancellationToken)) > 0)
        {
            total += read;
            if (total > limit)
            {
                return false;
            }
            await target.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
        }
        return true;
    }

    // Kestrel reports most malformed bodies as BadHttpRequestException, but a chunk size that overflows as a plain
    // IOException ("Bad chunk size data"); reading the request body, either is the client's doing.
    private static async ValueTask<int> ReadBodyAsync(Stream body, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await body.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException e) when (e is not BadHttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            throw new BadHttpRequestException($"The request body is malformed: {e.Message}", StatusCodes.Status400BadRequest, e);
        }
    }

    private static Task TooLargeAsync(HttpContext context, long limit)
        => EdgeErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "body",
            $"is larger than {limit} bytes (Limits:MaxBodyBytes, raised to fit one Limits:MaxImageBytes image as base64).");
}
