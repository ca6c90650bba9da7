using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace StableDiffusion.Server.Api;

/// <summary>
/// The playground page at <c>/</c>: plain HTML, CSS and JS from wwwroot, nothing from a CDN (the page's
/// Content-Security-Policy allows this origin only). Public like the health checks; the page asks for the API key.
/// </summary>
internal static class Playground
{
    // 'self' only: no CDN, no inline script; images and the event stream come from this server.
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static WebApplication UsePlayground(this WebApplication app)
    {
        var files = WebRoot(app.Environment);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                // Small files that change with the server: revalidate (ETag) rather than cache stale copies.
                headers.CacheControl = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                if (context.File.Name.EndsWith(".html", StringComparison.OrdinalIgnoreCase))
                {
                    headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    headers[HeaderNames.XFrameOptions] = "DENY";
                }
            },
        });
        return app;
    }

    /// <summary>
    /// wwwroot under the content root (the published folder, the image's /app, the project in tests); else the one
    /// copied next to the binaries, for a server started from another working directory.
    /// </summary>
    private static IFileProvider WebRoot(IWebHostEnvironment environment)
    {
        if (environment.WebRootFileProvider.GetFileInfo("index.html").Exists)
        {
            return environment.WebRootFileProvider;
        }
        var beside = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        return Directory.Exists(beside) ? new PhysicalFileProvider(beside) : environment.WebRootFileProvider;
    }
}
