using Microsoft.Extensions.Options;
using StableDiffusion.Server.Backends.Embedded;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Outputs;

namespace StableDiffusion.Server.Backends;

/// <summary>Registers the configured backend behind the Jobs ports (DESIGN §9).</summary>
public static class BackendsRegistration
{
    public static IServiceCollection AddBackends(this IServiceCollection services, ServerRole role)
    {
        services.AddSingleton<IPredictionStore>(sp =>
            new SqlitePredictionStore(Path.Combine(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedDataDirectory, "predictions.db")));
        services.AddSingleton<IOutputStore>(sp =>
            new FileSystemOutputStore(Path.Combine(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedDataDirectory, "files")));
        services.AddSingleton<IJobQueue, EmbeddedJobQueue>();
        // Before the workers (registered later) start taking jobs.
        services.AddHostedService<EmbeddedRecovery>();
        return services;
    }
}
