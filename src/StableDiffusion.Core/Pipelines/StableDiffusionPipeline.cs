using Microsoft.Extensions.Logging;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Pipelines;

/// <summary>A loaded model folder and the generation tasks it can run. Not thread-safe: one generation at a time.</summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    public static StableDiffusionPipeline Load(string modelDirectory, ModelLoadOptions? options = null, ILogger? logger = null)
        => throw new NotImplementedException();

    public ModelInfo Info => throw new NotImplementedException();

    public GenerationResult Generate(GenerationSettings settings, GenerationObserver? observer = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
