using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Generation;

/// <summary>Registers the served models and the one validator every API surface uses.</summary>
internal static class GenerationRegistration
{
    public static IServiceCollection AddGeneration(this IServiceCollection services)
    {
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<GenerationRequestValidator>();
        return services;
    }
}
