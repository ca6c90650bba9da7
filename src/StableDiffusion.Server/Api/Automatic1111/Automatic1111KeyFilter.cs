using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// API keys on the A1111 surface. A1111 frontends speak A1111's <c>--api-auth user:password</c> (HTTP Basic):
/// Open WebUI and SillyTavern send <c>Authorization: Basic base64(user:password)</c>. A configured key is accepted as
/// that password (any user name) or as the whole <c>user:password</c>, and also as <c>Bearer</c>.
/// </summary>
internal sealed class Automatic1111KeyFilter(IOptionsMonitor<AuthOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var keys = options.CurrentValue.ApiKeys;
        var request = context.HttpContext.Request;
        if (keys.Count == 0 || ApiKeyFilter.FindKey(request, keys) is not null || BasicMatches(request, keys))
        {
            return await next(context);
        }
        context.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"sdapi\", Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            detail: "Send a configured API key as the password of HTTP Basic auth (A1111's --api-auth) or as 'Authorization: Bearer <key>'.");
    }

    private static bool BasicMatches(HttpRequest request, IReadOnlyList<string> keys)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = credentials.IndexOf(':');
        var password = colon >= 0 ? credentials[(colon + 1)..] : credentials;
        var match = false;
        foreach (var key in keys)
        {
            var k = Encoding.UTF8.GetBytes(key);
            // Non-short-circuit so the time taken does not say which form matched.
            match |= CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), k)
                | CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(credentials), k);
        }
        return match;
    }
}
