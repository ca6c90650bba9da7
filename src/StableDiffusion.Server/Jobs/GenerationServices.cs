using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Telemetry;
using StableDiffusion.Server.Webhooks;
using StableDiffusion.Server.Worker;

namespace StableDiffusion.Server.Jobs;

/// <summary>Registers the generation path: models, validator, queue, store, workers (one per device), webhooks.</summary>
public static class GenerationServices
{
    public static IServiceCollection AddGeneration(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<GenerationRequestValidator>();
        services.AddSingleton<GenerationQueue>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<JobDispatcher>();
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookSigner>();
        services.AddHostedService<ResultRetentionService>();

        // One worker per device; AddHostedService would keep only the first of several of the same type.
        var devices = configuration.GetSection(ModelsOptions.Section).Get<ModelsOptions>()?.Devices is { Count: > 0 } d ? d : [0];
        foreach (var device in devices.Distinct())
        {
            services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<GenerationWorker>(sp, device));
        }
        // Closing the queue first is "stop accepting"; the workers then finish (bounded) and fail what is queued.
        services.AddHostedService<QueueCloser>();
        services.AddOptions<HostOptions>().Configure<IOptions<QueueOptions>>((host, queue)
            => host.ShutdownTimeout = TimeSpan.FromSeconds(queue.Value.ShutdownGraceSeconds + 10));

        services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false, // a redirect could point inside the network after the check
                UseProxy = false,          // the connect callback must see the real destination
                ConnectCallback = WebhookTargetGuard.ConnectCallback(sp.GetRequiredService<IOptionsMonitor<WebhookOptions>>()),
            });
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
