using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Api;

/// <summary>What sits around the endpoints: problem details, body limits, CORS, forwarded headers, rate limits, keys.</summary>
internal static class ApiEdges
{
    public const string RateLimitPolicy = "per-key";

    public static IServiceCollection AddApiEdges(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddSingleton<ApiKeyFilter>();
        // A blank key is an unset one: deployments pass `Auth__ApiKeys__0=${SD_API_KEY:-}` (compose) or an empty
        // secret, and that must mean "no authentication", not a key "" that fails the 16-character validation.
        services.PostConfigure<AuthOptions>(o => o.ApiKeys.RemoveAll(string.IsNullOrWhiteSpace));

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<LimitsOptions>>((kestrel, limits)
            => kestrel.Limits.MaxRequestBodySize = limits.Value.BodyLimit);

        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<CorsOriginsOptions>>((cors, origins) =>
            cors.AddDefaultPolicy(policy =>
            {
                if (origins.Value.Origins.Contains("*"))
                {
                    policy.AllowAnyOrigin();
                }
                else
                {
                    policy.WithOrigins([.. origins.Value.Origins]);
                }
                policy.AllowAnyHeader().WithMethods("GET", "POST").WithExposedHeaders("Location", "Retry-After");
            }));

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxy) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto
                | ForwardedHeaders.XForwardedHost | ForwardedHeaders.XForwardedPrefix;
            foreach (var address in proxy.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(address));
            }
            foreach (var network in proxy.Value.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });

        return services.AddPerKeyRateLimits();
    }

    /// <summary>A fixed window per API key (per client address without one); 429 problem with Retry-After.</summary>
    private static IServiceCollection AddPerKeyRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptionsMonitor<RateLimitOptions>, IOptionsMonitor<AuthOptions>>((limiter, rate, auth) =>
        {
            limiter.AddPolicy(RateLimitPolicy, context =>
            {
                var o = rate.CurrentValue;
                if (!o.Enabled)
                {
                    return RateLimitPartition.GetNoLimiter("off");
                }
                // Partition by the API key when one is valid, else by client address (keys are never logged or echoed).
                var key = ApiKeyFilter.FindKey(context.Request, auth.CurrentValue.ApiKeys);
                var partition = key is not null ? "key:" + key : "ip:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = o.PermitLimit,
                    Window = TimeSpan.FromSeconds(o.WindowSeconds),
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)Math.Ceiling(wait.TotalSeconds) : rate.CurrentValue.WindowSeconds;
                http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Rate limit exceeded",
                    detail: $"At most {rate.CurrentValue.PermitLimit} requests per {rate.CurrentValue.WindowSeconds} s per API key; retry after {retryAfter} s.")
                    .ExecuteAsync(http);
            };
        });
        return services;
    }

    /// <summary>Proxy headers go first, so every URL and log line sees the client's view of scheme, host and prefix.</summary>
    public static WebApplication UseForwardedHeadersFromConfig(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value.Enabled)
        {
            app.UseForwardedHeaders();
        }
        return app;
    }

    /// <summary>Problem details for errors and status codes, CORS, then the rate limiter.</summary>
    public static WebApplication UseApiEdges(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>The <c>/v1</c> group: API keys and per-key rate limits apply to everything in it.</summary>
    public static RouteGroupBuilder MapV1(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1").AddEndpointFilter<ApiKeyFilter>().RequireRateLimiting(RateLimitPolicy);
        v1.ProducesProblem(StatusCodes.Status429TooManyRequests);
        return v1;
    }
}
