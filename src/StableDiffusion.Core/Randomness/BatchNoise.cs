namespace StableDiffusion.Core.Randomness;

/// <summary>
/// Gaussian noise for a batch of N images, drawn in the order of diffusers' pipelines (the initial latents, then every
/// noise tensor the scheduler asks for in the loop). With <see cref="NoiseBatching.PerImage"/> image k has its own
/// generator seeded with seed + k and each fill of the batch gives image k its slice from its own generator, so image k
/// of a batch is bit-identical to the same request made alone with seed + k. With <see cref="NoiseBatching.OneGenerator"/>
/// one generator fills the whole [N, …] tensor in one draw.
/// </summary>
public sealed class BatchNoise
{
    private readonly INoiseGenerator[] _generators;

    public BatchNoise(string source, long seed, int images, NoiseBatching batching = NoiseBatching.PerImage)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(images, 1);
        Batching = batching;
        _generators = new INoiseGenerator[batching == NoiseBatching.PerImage ? images : 1];
        for (var k = 0; k < _generators.Length; k++)
        {
            _generators[k] = RandomSource.Create(source, unchecked((ulong)(seed + k)));
        }

        Images = images;
    }

    public int Images { get; }

    public NoiseBatching Batching { get; }

    /// <summary>Fills a whole-batch buffer [N, …]: slice k from generator k, or all of it from the one generator.</summary>
    public void Fill(Span<float> destination)
    {
        if (_generators.Length == 1)
        {
            _generators[0].Fill(destination);
            return;
        }

        var perImage = destination.Length / _generators.Length;
        for (var k = 0; k < _generators.Length; k++)
        {
            _generators[k].Fill(destination.Slice(k * perImage, perImage));
        }
    }
}
