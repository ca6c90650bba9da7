namespace StableDiffusion.Core.Randomness;

/// <summary>
/// Seeded standard normal noise: xoshiro256** seeded through SplitMix64, Box–Muller in double precision (the
/// <c>xoshiro</c> source, this project's generator before the torch/numpy/Philox ones).
/// </summary>
/// <remarks>
/// Written by hand because the output must never change across .NET versions or machines (System.Random's
/// algorithm is an implementation detail), and it must not depend on PyTorch: one seed gives the same latents
/// on every machine. The sequence is documented in the README ("Seeds").
/// </remarks>
public sealed class GaussianNoise : INoiseGenerator
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare;
    private bool _hasSpare;

    public GaussianNoise(long seed)
    {
        ulong x = unchecked((ulong)seed);
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    public string Source => RandomSource.Xoshiro;

    /// <summary>Fills <paramref name="destination"/> with N(0, 1) samples.</summary>
    public void Fill(Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)NextGaussian();
        }
    }

    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }

        // Box–Muller: u1 in (0, 1] so the log is finite.
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        double theta = 2.0 * Math.PI * u2;
        _spare = radius * Math.Sin(theta);
        _hasSpare = true;
        return radius * Math.Cos(theta);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
