using Microsoft.Extensions.Diagnostics.HealthChecks;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Telemetry;
using StackExchange.Redis;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>Registers what a replica needs on a shared Redis, by role: the claimer (workers), the mirror (API).</summary>
internal static class RedisClusterRegistration
{
    public static IServiceCollection AddRedisCluster(this IServiceCollection services, ServerRole role)
    {
        services.AddSingleton<IQueueGauge>(sp => new JobQueueGauge(sp.GetRequiredService<IJobQueue>()));
        if (role != ServerRole.Worker)
        {
            services.AddSingleton<RedisJobMirror>();
            services.AddSingleton<IJobMirror>(sp => sp.GetRequiredService<RedisJobMirror>());
            services.AddHostedService<RedisMirrorRefresher>();
        }
        if (role != ServerRole.Api)
        {
            services.AddHostedService<RedisClaimer>();
        }
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        return services;
    }

    private sealed class JobQueueGauge(IJobQueue queue) : IQueueGauge
    {
        public int Depth => queue.Depth;

        public int Capacity => queue.Capacity;
    }

    /// <summary>Ready only while Redis answers: a replica cut off from it can neither accept nor run jobs.</summary>
    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var latency = await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy($"redis answers ({latency.TotalMilliseconds:0.0} ms)");
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy("redis does not answer: " + e.Message);
            }
        }
    }
}
