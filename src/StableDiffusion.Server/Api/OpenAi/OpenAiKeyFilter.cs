using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>The API-key check of <see cref="ApiKeyFilter"/>, answering in OpenAI's error shape.</summary>
internal sealed class OpenAiKeyFilter(IOptionsMonitor<AuthOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var keys = options.CurrentValue.ApiKeys;
        if (keys.Count == 0 || ApiKeyFilter.FindKey(context.HttpContext.Request, keys) is not null)
        {
            return await next(context);
        }
        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return OpenAiErrors.Unauthorized();
    }
}
