using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Outputs;

/// <summary>Registers the output store chosen by <c>Outputs:Backend</c> and the signer of <c>/v1/files</c> links.</summary>
internal static class OutputsRegistration
{
    /// <param name="dataDirectory">Resolves the data directory (Storage:DataDirectory or its default): files and the generated signing key live there.</param>
    public static IServiceCollection AddOutputStore(this IServiceCollection services, Func<IServiceProvider, string> dataDirectory)
    {
        services.AddSingleton<IOutputStore>(sp => sp.GetRequiredService<IOptions<OutputsOptions>>().Value.Backend switch
        {
            OutputsBackend.S3 => new S3OutputStore(sp.GetRequiredService<IOptions<OutputsOptions>>()),
            _ => new FileSystemOutputStore(dataDirectory(sp)),
        });
        services.AddSingleton(sp => FileUrlSigner.Create(sp.GetRequiredService<IOptions<OutputsOptions>>().Value.SigningKey, dataDirectory(sp)));
        return services;
    }
}
