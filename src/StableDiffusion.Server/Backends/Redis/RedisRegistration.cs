using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StackExchange.Redis;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>Registers the Redis backend's ports (Storage:Backend = Redis): one shared connection, store, queue, bus, model registry.</summary>
internal static class RedisRegistration
{
    public static IServiceCollection AddRedisBackend(this IServiceCollection services)
    {
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<StorageOptions>>().Value.Redis!);
            // Start even while Redis is down or restarting, and reconnect by itself: readiness reports the backend,
            // and a replica that crashes on a Redis blip would only make the blip worse.
            options.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(options);
        });
        services.AddSingleton<RedisPredictionStore>();
        services.AddSingleton<IPredictionStore>(sp => sp.GetRequiredService<RedisPredictionStore>());
        services.AddSingleton<RedisJobQueue>();
        services.AddSingleton<IJobQueue>(sp => sp.GetRequiredService<RedisJobQueue>());
        services.AddSingleton<RedisEventBus>();
        services.AddSingleton<IJobEventBus>(sp => sp.GetRequiredService<RedisEventBus>());
        services.AddSingleton<RedisModelRegistry>();
        return services;
    }
}
