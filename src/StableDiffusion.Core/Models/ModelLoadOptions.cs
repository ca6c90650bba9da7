namespace StableDiffusion.Core.Models;

/// <summary>How a model folder is loaded.</summary>
public sealed record ModelLoadOptions
{
    /// <summary><c>auto</c> (CUDA when available, else CPU), <c>cuda</c>, <c>tensorrt</c> (TensorRT, with CUDA for
    /// what TensorRT does not take) or <c>cpu</c>.</summary>
    public string ExecutionProvider { get; init; } = "auto";
    public int DeviceId { get; init; }
    /// <summary>ONNX Runtime intra-op threads; 0 = ONNX Runtime's default.</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>Display name; null = the folder's name.</summary>
    public string? Name { get; init; }
    /// <summary>Load <c>safety_checker/</c> and black out images it flags (off by default). When on, a folder without
    /// <c>safety_checker/model.onnx</c> fails to load rather than silently running unchecked.</summary>
    public bool SafetyChecker { get; init; }
    /// <summary>x4 upscaler: inputs whose latents (= low-res pixels) exceed this are upscaled in overlapping tiles of at
    /// most this many latent pixels, which bounds UNet and VAE-decoder memory (default 128×128: 512×512 out per tile).</summary>
    public int MaxUpscaleLatentPixels { get; init; } = 128 * 128;
    /// <summary>x4 upscaler: overlap between neighbouring tiles, in low-res pixels (blended linearly).</summary>
    public int UpscaleTileOverlap { get; init; } = 16;

    /// <summary>CUDA/TensorRT provider settings.</summary>
    public CudaOptions Cuda { get; init; } = new();

    /// <summary>Device-resident UNet I/O through an ONNX Runtime I/O binding: the UNet's inputs and output live in
    /// buffers bound once per shape (on the GPU with CUDA), the prompt embeddings are copied once per job, and each
    /// step moves only the latents in and the prediction out (with <see cref="DeviceSteps"/>, not even those). Null = on when CUDA graphs are (they replay against the bound
    /// buffers), else off: on an H100 bound I/O alone was no faster than plain runs. True on the CPU binds host buffers
    /// (same results; what the tests compare).</summary>
    public bool? IoBinding { get; init; }

    /// <summary>With bound I/O, classifier-free guidance and the scheduler step run on the device too, as two small
    /// ONNX graphs: a text-to-image or image-to-image run's latents stay on the GPU from the first UNet call to the
    /// last (per step the host sends the timestep and the step's coefficients; see Pipelines/DeviceSteps.cs). Null = on
    /// wherever I/O is bound on CUDA or TensorRT, off on the CPU; true on the CPU runs the same graphs on the CPU provider
    /// (what the tests compare with the host loop). Needs <see cref="IoBinding"/>.</summary>
    public bool? DeviceSteps { get; init; }

    /// <summary>Text-encoder outputs kept per model, by token ids (LRU); 0 = off. Each entry is [77, D] floats (315 KB for
    /// SD 2.x), so the default costs at most ~10 MB.</summary>
    public int PromptCacheEntries { get; init; } = DefaultPromptCacheEntries;

    public const int DefaultPromptCacheEntries = 32;
}
