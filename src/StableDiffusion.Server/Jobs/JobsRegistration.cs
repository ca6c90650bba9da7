using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Telemetry;

namespace StableDiffusion.Server.Jobs;

/// <summary>Registers the job path: queue, store, dispatcher, retention, and the queue's part in shutdown.</summary>
internal static class JobsRegistration
{
    public static IServiceCollection AddJobs(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<GenerationQueue>();
        services.AddSingleton<IQueueGauge>(sp => sp.GetRequiredService<GenerationQueue>());
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<JobDispatcher>();
        services.AddHostedService<ResultRetentionService>();
        // Closing the queue first is "stop accepting"; the workers then finish (bounded) and fail what is queued.
        services.AddHostedService<QueueCloser>();
        services.AddOptions<HostOptions>().Configure<IOptions<QueueOptions>>((host, queue)
            => host.ShutdownTimeout = TimeSpan.FromSeconds(queue.Value.ShutdownGraceSeconds + 10));
        return services;
    }

    private sealed class QueueCloser(GenerationQueue queue, IHostApplicationLifetime lifetime) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStopping.Register(queue.Close);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
