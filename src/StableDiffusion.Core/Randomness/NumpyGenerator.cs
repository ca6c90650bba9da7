namespace StableDiffusion.Core.Randomness;

/// <summary><c>np.random.RandomState(seed).randn(*shape).astype(np.float32)</c>, bit for bit: what diffusers' ONNX
/// pipelines draw their latents from.</summary>
/// <remarks>
/// numpy's legacy seeding (mt19937_seed = init_genrand, seeds 0 … 2³²−1 only, as numpy enforces), 53-bit doubles from
/// two draws (a &gt;&gt; 5, b &gt;&gt; 6), and <c>legacy_gauss</c>: Marsaglia's polar method, rejecting r² ≥ 1 and r² = 0,
/// returning f·x2 and keeping f·x1 for the next call — the kept value survives across randn calls.
/// </remarks>
public sealed class NumpyGenerator : INoiseGenerator
{
    private readonly Mt19937 _engine;
    private double _gauss;
    private bool _hasGauss;

    /// <exception cref="ArgumentOutOfRangeException">The seed is above 2³²−1 (numpy raises "Seed must be between 0 and 2**32 - 1").</exception>
    public NumpyGenerator(ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(seed, (ulong)uint.MaxValue);
        _engine = new Mt19937((uint)seed);
    }

    public string Source => RandomSource.Numpy;

    public void Fill(Span<float> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)NextGauss();
        }
    }

    public double NextGauss()
    {
        if (_hasGauss)
        {
            _hasGauss = false;
            return _gauss;
        }

        double x1, x2, r2;
        do
        {
            x1 = 2.0 * NextDouble() - 1.0;
            x2 = 2.0 * NextDouble() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        }
        while (r2 >= 1.0 || r2 == 0.0);

        var f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        _gauss = f * x1;
        _hasGauss = true;
        return f * x2;
    }

    private double NextDouble()
    {
        var a = _engine.Next() >> 5;
        var b = _engine.Next() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }
}
