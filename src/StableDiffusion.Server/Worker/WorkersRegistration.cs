using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Worker;

/// <summary>Registers one worker per configured device, the runner and post-processing stage they share, and their
/// readiness check.</summary>
internal static class WorkersRegistration
{
    public static IServiceCollection AddWorkers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<JobRunner>();
        services.AddSingleton<BatchGatherer>();
        services.AddSingleton<BatchRunner>();
        // Before the workers: hosted services stop in reverse order, so the stage drains after the last worker stopped.
        services.AddSingleton<PostProcessor>();
        services.AddHostedService(sp => sp.GetRequiredService<PostProcessor>());
        // One worker per device; AddHostedService would keep only the first of several of the same type.
        var devices = configuration.GetSection(ModelsOptions.Section).Get<ModelsOptions>()?.Devices is { Count: > 0 } d ? d : [0];
        foreach (var device in devices.Distinct())
        {
            services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<GenerationWorker>(sp, device));
        }
        services.AddHealthChecks().AddCheck<WorkerHealthCheck>("workers", tags: ["ready"]);
        return services;
    }
}
