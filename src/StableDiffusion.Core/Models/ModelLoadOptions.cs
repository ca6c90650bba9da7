namespace StableDiffusion.Core.Models;

/// <summary>How a model folder is loaded.</summary>
public sealed record ModelLoadOptions
{
    /// <summary><c>auto</c> (CUDA when available, else CPU), <c>cuda</c> or <c>cpu</c>.</summary>
    public string ExecutionProvider { get; init; } = "auto";
    public int DeviceId { get; init; }
    /// <summary>ONNX Runtime intra-op threads; 0 = ONNX Runtime's default.</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>Display name; null = the folder's name.</summary>
    public string? Name { get; init; }
}
