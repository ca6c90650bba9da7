using Microsoft.Extensions.Options;
using StableDiffusion.Server.Backends.Embedded;
using StableDiffusion.Server.Backends.Redis;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Outputs;

namespace StableDiffusion.Server.Backends;

/// <summary>Registers the configured backend behind the Jobs ports and the output store (DESIGN §9).</summary>
internal static class BackendsRegistration
{
    public static IServiceCollection AddBackends(this IServiceCollection services, IConfiguration configuration, ServerRole role)
    {
        static string DataDirectory(IServiceProvider sp) => sp.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedDataDirectory;
        services.AddOutputStore(DataDirectory);
        services.AddSingleton(sp => new FileLinks(sp.GetRequiredService<IOutputStore>(), sp.GetRequiredService<FileUrlSigner>().Query));
        var backend = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()?.Backend ?? StorageBackend.Embedded;
        if (backend == StorageBackend.Redis)
        {
            services.AddRedisBackend();
            services.AddRedisCluster(role);
            return services;
        }
        services.AddSingleton<IPredictionStore>(sp => new SqlitePredictionStore(Path.Combine(DataDirectory(sp), "predictions.db")));
        services.AddSingleton<IJobQueue, EmbeddedJobQueue>();
        services.AddHealthChecks().AddCheck<EmbeddedHealthCheck>("storage", tags: ["ready"]);
        // Before the workers (registered later) start taking jobs.
        services.AddHostedService<EmbeddedRecovery>();
        return services;
    }
}
