using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Models</c> section: which model folders to serve and on which device.</summary>
internal sealed class ModelsOptions
{
    public const string Section = "Models";

    /// <summary>Served models; empty = the generated demo model (random weights).</summary>
    public List<ModelEntryOptions> Items { get; set; } = [];

    /// <summary>Name of the model used when a request names none; null = the first one.</summary>
    public string? Default { get; set; }

    /// <summary>Where the demo model is generated; null = <c>~/.cache/stablediffusion-server/demo-random-weights</c>.</summary>
    public string? DemoModelPath { get; set; }

    /// <summary><c>auto</c>, <c>cuda</c>, <c>tensorrt</c> or <c>cpu</c>.</summary>
    [RegularExpression("^(auto|cuda|tensorrt|cpu)$")]
    public string ExecutionProvider { get; set; } = "auto";

    /// <summary>One worker per device id; each loads every model. Empty = device 0 (a default list here would be appended to, not replaced, by binding).</summary>
    public List<int> Devices { get; set; } = [];

    [Range(0, 256)]
    public int IntraOpThreads { get; set; }

    /// <summary>Text-encoder outputs kept per model and device, by token ids (LRU; 315 KB each for SD 2.x); 0 = off.</summary>
    [Range(0, 4_096)]
    public int PromptCacheEntries { get; set; } = StableDiffusion.Core.Models.ModelLoadOptions.DefaultPromptCacheEntries;

    /// <summary>UNet I/O bound in device buffers: null = on when <c>Cuda:CudaGraph</c> is (graphs need it), else off.</summary>
    public bool? IoBinding { get; set; }

    /// <summary>Guidance and the scheduler step on the device, so latents stay there for the whole run: null = on wherever
    /// I/O is bound on CUDA/TensorRT; needs <see cref="IoBinding"/>.</summary>
    public bool? DeviceSteps { get; set; }

    /// <summary>CUDA/TensorRT provider settings (cuDNN algorithm search, NHWC, TF32, arena, memory limit, CUDA graphs,
    /// TensorRT engine cache).</summary>
    public StableDiffusion.Core.Models.CudaOptions Cuda { get; set; } = new();

    /// <summary>Shapes generated once at start, before the worker reports ready, so the first request is not the slow
    /// one: "WxH" or "WxHxN" (N images per job, the UNet batch the server will run). Empty = no warm-up.</summary>
    public List<string> Warmup { get; set; } = [];

    /// <summary>The parsed <see cref="Warmup"/> shapes (validated at start).</summary>
    public IReadOnlyList<(int Width, int Height, int Images)> WarmupShapes() =>
        [.. Warmup.Select(w => ParseShape(w) ?? throw new ArgumentException($"Models:Warmup entry '{w}' is not WxH or WxHxN."))];

    /// <summary>"WxH" or "WxHxN" with width and height multiples of 8 and 1 ≤ N ≤ 16; null otherwise.</summary>
    public static (int Width, int Height, int Images)? ParseShape(string text)
    {
        var parts = text.Split('x', StringSplitOptions.TrimEntries);
        var values = parts.Select(p => int.TryParse(p, out int v) && v > 0 ? v : 0).ToArray();
        if (parts.Length is not (2 or 3) || values.Contains(0) || values[0] % 8 != 0 || values[1] % 8 != 0
            || values[0] > 4096 || values[1] > 4096 || (values.Length == 3 && values[2] > 16))
        {
            return null;
        }

        return (values[0], values[1], values.Length == 3 ? values[2] : 1);
    }
}

/// <summary>One served model folder.</summary>
internal sealed class ModelEntryOptions
{
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    public string Name { get; set; } = "";

    /// <summary>Replicate-style owner shown in <c>owner/name</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    public string Owner { get; set; } = "local";

    [Required]
    public string Path { get; set; } = "";

    public string? Description { get; set; }

    /// <summary>Load the folder's <c>safety_checker/</c> and black out flagged images (the folder must have one).</summary>
    public bool SafetyChecker { get; set; }
}
