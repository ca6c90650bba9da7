using System.Net;
using Microsoft.Extensions.Options;

namespace StableDiffusion.Server.Configuration;

/// <summary>Binds every configuration section to its options class and validates it at start.</summary>
internal static class ServerOptionsRegistration
{
    public static IServiceCollection AddServerOptions(this IServiceCollection services)
    {
        services.AddOptions<ModelsOptions>().BindConfiguration(ModelsOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Items.All(i => !string.IsNullOrWhiteSpace(i.Name) && !string.IsNullOrWhiteSpace(i.Path)),
                "Models:Items: every model needs a Name and a Path")
            .Validate(o => o.Items.Select(i => i.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() == o.Items.Count,
                "Models:Items: model names must be unique")
            .Validate(o => string.IsNullOrEmpty(o.Default) || o.Items.Count == 0 || o.Items.Any(i => i.Name == o.Default),
                "Models:Default must name one of Models:Items")
            .Validate(o => o.Devices.Distinct().Count() == o.Devices.Count && o.Devices.All(d => d >= 0),
                "Models:Devices must be distinct non-negative device ids")
            .Validate(o => o.Warmup.All(w => ModelsOptions.ParseShape(w) is not null),
                "Models:Warmup entries must be WxH or WxHxN (width and height multiples of 8 up to 4096, N from 1 to 16)")
            .Validate(o => o.Cuda.Errors().Count == 0,
                "Models:Cuda: CudnnConvAlgoSearch must be EXHAUSTIVE, HEURISTIC or DEFAULT, ArenaExtendStrategy kNextPowerOfTwo or kSameAsRequested, GpuMemoryLimitBytes 0 or more")
            .ValidateOnStart();
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PostProcessingOptions>().BindConfiguration(PostProcessingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ResultsOptions>().BindConfiguration(ResultsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section)
            .Validate<IOptions<StorageOptions>>((o, storage) => o.Role == ServerRole.All || storage.Value.Backend != StorageBackend.Embedded,
                "Server:Role api or worker needs a shared backend: set Storage:Backend to Redis (the embedded backend serves one process)")
            .ValidateOnStart();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OutputsOptions>().BindConfiguration(OutputsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.MaxWidth % 8 == 0 && o.MaxHeight % 8 == 0, "Limits:MaxWidth and MaxHeight must be multiples of 8")
            .ValidateOnStart();
        services.AddOptions<WatermarkOptions>().BindConfiguration(WatermarkOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .Validate(o => o.ApiKeys.All(k => k.Length >= 16), "Auth:ApiKeys: keys must be at least 16 characters")
            .ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CorsOriginsOptions>().BindConfiguration(CorsOriginsOptions.Section)
            .Validate(o => o.Origins.All(x => x == "*" || Uri.IsWellFormedUriString(x, UriKind.Absolute)),
                "Cors:Origins: each origin must be an absolute URL or *")
            .ValidateOnStart();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations()
            .Validate(o => Webhooks.WebhookSigner.IsValidSecret(o.SigningSecret), "Webhooks:SigningSecret must be whsec_ followed by base64 of at least 16 bytes")
            .ValidateOnStart();
        services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section)
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "ForwardedHeaders:KnownProxies: not an IP address")
            .Validate(o => o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)), "ForwardedHeaders:KnownNetworks: not a CIDR network")
            .ValidateOnStart();
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section)
            .Validate(o => string.IsNullOrEmpty(o.OtlpEndpoint) || Uri.IsWellFormedUriString(o.OtlpEndpoint, UriKind.Absolute),
                "Telemetry:OtlpEndpoint must be an absolute URL")
            .ValidateOnStart();
        return services;
    }
}
