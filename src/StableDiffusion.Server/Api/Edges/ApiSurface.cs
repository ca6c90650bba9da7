namespace StableDiffusion.Server.Api.Edges;

/// <summary>The three API surfaces, each answering errors in its own shape (DESIGN §5).</summary>
internal enum ApiSurface
{
    /// <summary>Native/Replicate (<c>/v1/…</c>) and everything else: problem+json with <c>errors</c> per field.</summary>
    Native,

    /// <summary><c>/v1/images/*</c>: OpenAI's <c>{error:{message,type,param,code}}</c>.</summary>
    OpenAi,

    /// <summary><c>/sdapi/*</c>: problem+json with <c>errors</c> per field, as the A1111 endpoints answer validation.</summary>
    Automatic1111,
}

/// <summary>Which surface a request belongs to, from its path.</summary>
internal static class ApiSurfaces
{
    public static ApiSurface Of(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/v1/images", StringComparison.OrdinalIgnoreCase))
        {
            return ApiSurface.OpenAi;
        }
        return path.StartsWithSegments("/sdapi", StringComparison.OrdinalIgnoreCase) ? ApiSurface.Automatic1111 : ApiSurface.Native;
    }
}
