namespace StableDiffusion.Core.Models;

/// <summary>CUDA and TensorRT execution-provider settings (ignored on the CPU provider). The names follow ONNX
/// Runtime's provider options, which are what these become.</summary>
public sealed record CudaOptions
{
    /// <summary>cuDNN convolution algorithm search: <c>EXHAUSTIVE</c> (ONNX Runtime's default: benchmarks every
    /// algorithm on the first run of each shape), <c>HEURISTIC</c> or <c>DEFAULT</c>.</summary>
    public string CudnnConvAlgoSearch { get; init; } = "EXHAUSTIVE";

    /// <summary>Prefer NHWC kernels for convolutions (faster on tensor cores for fp16 models).</summary>
    public bool PreferNhwc { get; init; }

    /// <summary>Allow TF32 for float32 matrix products and convolutions on Ampere and later (results differ from
    /// strict float32 in the last bits; the usual choice for inference).</summary>
    public bool UseTf32 { get; init; } = true;

    /// <summary>How the device memory arena grows: <c>kNextPowerOfTwo</c> or <c>kSameAsRequested</c>.</summary>
    public string ArenaExtendStrategy { get; init; } = "kNextPowerOfTwo";

    /// <summary>Device memory limit of the arena in bytes; 0 = no limit.</summary>
    public long GpuMemoryLimitBytes { get; init; }

    /// <summary>Capture the UNet as a CUDA graph per shape (after a warm-up call) and replay it on later steps. Needs
    /// every UNet node on the CUDA provider and device-resident I/O (on by default with CUDA).</summary>
    public bool CudaGraph { get; init; }

    /// <summary>TensorRT provider only: folder where built engines are cached (building one takes minutes; without a
    /// cache every start builds them again). Null = no cache.</summary>
    public string? TensorRtEngineCacheDirectory { get; init; }

    /// <summary>TensorRT provider only: let TensorRT build fp16 engines from a float32 model.</summary>
    public bool TensorRtFp16 { get; init; }

    public static readonly IReadOnlyList<string> ConvAlgoSearchValues = ["EXHAUSTIVE", "HEURISTIC", "DEFAULT"];
    public static readonly IReadOnlyList<string> ArenaStrategies = ["kNextPowerOfTwo", "kSameAsRequested"];

    /// <summary>What is wrong with these settings (empty when nothing is); the server checks this at start.</summary>
    public IReadOnlyList<string> Errors()
    {
        var errors = new List<string>();
        if (!ConvAlgoSearchValues.Contains(CudnnConvAlgoSearch, StringComparer.Ordinal))
        {
            errors.Add($"CudnnConvAlgoSearch must be one of {string.Join(", ", ConvAlgoSearchValues)}, not '{CudnnConvAlgoSearch}'.");
        }

        if (!ArenaStrategies.Contains(ArenaExtendStrategy, StringComparer.Ordinal))
        {
            errors.Add($"ArenaExtendStrategy must be one of {string.Join(", ", ArenaStrategies)}, not '{ArenaExtendStrategy}'.");
        }

        if (GpuMemoryLimitBytes < 0)
        {
            errors.Add($"GpuMemoryLimitBytes must be 0 (no limit) or positive, not {GpuMemoryLimitBytes}.");
        }

        return errors;
    }

    /// <summary>The CUDA provider options ONNX Runtime reads.</summary>
    internal Dictionary<string, string> ProviderOptions(int deviceId, bool cudaGraph)
    {
        if (Errors() is [var first, ..])
        {
            throw new ArgumentException(first);
        }

        var options = new Dictionary<string, string>
        {
            ["device_id"] = deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = CudnnConvAlgoSearch,
            ["prefer_nhwc"] = PreferNhwc ? "1" : "0",
            ["use_tf32"] = UseTf32 ? "1" : "0",
            ["arena_extend_strategy"] = ArenaExtendStrategy,
            ["enable_cuda_graph"] = cudaGraph ? "1" : "0",
        };
        if (GpuMemoryLimitBytes > 0)
        {
            options["gpu_mem_limit"] = GpuMemoryLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return options;
    }

    /// <summary>The TensorRT provider options ONNX Runtime reads.</summary>
    internal Dictionary<string, string> TensorRtProviderOptions(int deviceId)
    {
        var options = new Dictionary<string, string>
        {
            ["device_id"] = deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["trt_fp16_enable"] = TensorRtFp16 ? "1" : "0",
        };
        if (TensorRtEngineCacheDirectory is { Length: > 0 } cache)
        {
            Directory.CreateDirectory(cache);
            options["trt_engine_cache_enable"] = "1";
            options["trt_engine_cache_path"] = cache;
            options["trt_timing_cache_enable"] = "1";
            options["trt_timing_cache_path"] = cache;
        }

        return options;
    }
}
