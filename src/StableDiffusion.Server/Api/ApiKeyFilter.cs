using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Api;

/// <summary>Optional bearer API keys (<c>Authorization: Bearer KEY</c>); off when <c>Auth:ApiKeys</c> is empty.</summary>
internal sealed class ApiKeyFilter(IOptionsMonitor<AuthOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var keys = options.CurrentValue.ApiKeys;
        // Stream and file URLs carry unguessable ids and are fetched by clients without the token, as on Replicate.
        var capabilityUrl = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null;
        if (keys.Count == 0 || capabilityUrl || FindKey(context.HttpContext.Request, keys) is not null)
        {
            return await next(context);
        }
        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            detail: "Send a valid API key as 'Authorization: Bearer <key>'.");
    }

    /// <summary>
    /// Who owns predictions created by this request: a hash of its API key (predictions are listed per key, as on
    /// Replicate per account); null when keys are off.
    /// </summary>
    public static string? OwnerOf(HttpRequest request, IReadOnlyList<string> keys)
        => FindKey(request, keys) is { } key ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16] : null;

    /// <summary>The configured key the request carries, or null.</summary>
    public static string? FindKey(HttpRequest request, IReadOnlyList<string> keys)
    {
        var header = request.Headers.Authorization.ToString();
        // Replicate's older clients send "Token KEY"; accept both schemes.
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim()
            : header.StartsWith("Token ", StringComparison.OrdinalIgnoreCase) ? header[6..].Trim() : null;
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        var given = Encoding.UTF8.GetBytes(token);
        foreach (var key in keys)
        {
            if (CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(key)))
            {
                return key;
            }
        }
        return null;
    }
}
