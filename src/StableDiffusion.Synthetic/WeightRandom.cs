namespace StableDiffusion.Synthetic;

/// <summary>Deterministic Gaussian source for synthetic weights: xoshiro256** seeded by SplitMix64.</summary>
/// <remarks>
/// Our own generator (not <see cref="Random"/>) so the bytes of a model never change with the .NET version. Every tensor
/// gets its own stream, derived from the seed, the component and the tensor's name, so one tensor's values do not depend
/// on which tensors were drawn before it.
/// </remarks>
internal sealed class WeightRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public WeightRandom(int seed, string stream)
    {
        ulong state = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ Fnv1a(stream);
        _s0 = SplitMix(ref state);
        _s1 = SplitMix(ref state);
        _s2 = SplitMix(ref state);
        _s3 = SplitMix(ref state);
    }

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

    /// <summary>Uniform in (0, 1]: never 0, so the Box-Muller logarithm is finite.</summary>
    private double NextOpenDouble() => ((NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));

    /// <summary>Fills <paramref name="destination"/> with N(0, std²) samples (Box-Muller, both outputs used).</summary>
    public void FillGaussian(Span<float> destination, float std)
    {
        for (int i = 0; i < destination.Length; i += 2)
        {
            double radius = Math.Sqrt(-2.0 * Math.Log(NextOpenDouble())) * std;
            (double sin, double cos) = Math.SinCos(2.0 * Math.PI * NextOpenDouble());
            destination[i] = (float)(radius * cos);
            if (i + 1 < destination.Length)
            {
                destination[i + 1] = (float)(radius * sin);
            }
        }
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Fnv1a(string text)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 0x100000001B3UL;
        }
        return hash;
    }
}
