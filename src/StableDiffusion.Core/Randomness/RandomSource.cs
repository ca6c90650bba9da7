namespace StableDiffusion.Core.Randomness;

/// <summary>The noise sources a request can pick (<c>rng</c>), and the generator for a seed.</summary>
public static class RandomSource
{
    /// <summary><c>torch.Generator("cpu")</c> + <c>torch.randn</c> as on x86-64 (AVX2 kernel): diffusers' scripts, A1111 "CPU".</summary>
    public const string Cpu = "cpu";

    /// <summary>torch's CPU generator with the portable (non-AVX2) kernel: torch on ARM / Apple silicon.</summary>
    public const string CpuScalar = "cpu-scalar";

    /// <summary>A1111's "NV": Philox 4×32-10 imitating <c>torch.randn</c> on CUDA (A1111's "GPU" default, on any machine).</summary>
    public const string Nv = "nv";

    /// <summary>numpy's legacy <c>RandomState(seed).randn</c>: diffusers' ONNX pipelines.</summary>
    public const string Numpy = "numpy";

    /// <summary>This project's own xoshiro256** generator (<see cref="GaussianNoise"/>).</summary>
    public const string Xoshiro = "xoshiro";

    /// <summary>The default: a native-API user expects diffusers' behaviour, i.e. torch's CPU generator.</summary>
    public const string Default = Cpu;

    public static IReadOnlyList<string> Names { get; } = [Cpu, Nv, Numpy, Xoshiro, CpuScalar];

    /// <summary>The canonical name for a source name, case-insensitive, also accepting A1111's <c>randn_source</c> values
    /// (<c>CPU</c>, <c>GPU</c> — mapped to <c>nv</c>, the CPU imitation of CUDA's generator — and <c>NV</c>); null when unknown.</summary>
    public static string? Canonicalize(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "cpu" or "torch" => Cpu,
        "cpu-scalar" => CpuScalar,
        "nv" or "gpu" or "philox" => Nv,
        "numpy" or "np" => Numpy,
        "xoshiro" => Xoshiro,
        _ => null,
    };

    /// <summary>A fresh generator for <paramref name="seed"/> (taken as an unsigned 64-bit value).</summary>
    /// <exception cref="ArgumentException">Unknown source, or a seed the source cannot take (numpy: above 2³²−1).</exception>
    public static INoiseGenerator Create(string source, ulong seed) => (Canonicalize(source) ?? throw new ArgumentException(
            $"Unknown random source '{source}'. Valid: {string.Join(", ", Names)}.", nameof(source))) switch
    {
        Cpu => new TorchCpuGenerator(seed),
        CpuScalar => new TorchCpuGenerator(seed, TorchNormalKernel.Scalar),
        Nv => new PhiloxGenerator(seed),
        Numpy => seed <= uint.MaxValue
            ? new NumpyGenerator(seed)
            : throw new ArgumentException($"The numpy source takes seeds from 0 to {uint.MaxValue} (as numpy's RandomState), got {seed}.", nameof(seed)),
        _ => new GaussianNoise(unchecked((long)seed)),
    };
}
