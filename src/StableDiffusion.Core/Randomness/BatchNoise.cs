namespace StableDiffusion.Core.Randomness;

/// <summary>
/// Gaussian noise for a batch of N images: image k has its own generator seeded with seed + k, and every fill of the
/// whole batch gives each image its slice from its own generator. So image k of a batch is bit-identical to the
/// same request made alone with seed + k.
/// </summary>
public sealed class BatchNoise
{
    private readonly GaussianNoise[] _generators;

    public BatchNoise(long seed, int images)
    {
        _generators = new GaussianNoise[images];
        for (int k = 0; k < images; k++)
        {
            _generators[k] = new GaussianNoise(unchecked(seed + k));
        }
    }

    /// <summary>Fills a whole-batch buffer [N, …]: slice k from generator k.</summary>
    public void Fill(Span<float> destination)
    {
        int perImage = destination.Length / _generators.Length;
        for (int k = 0; k < _generators.Length; k++)
        {
            _generators[k].Fill(destination.Slice(k * perImage, perImage));
        }
    }
}
