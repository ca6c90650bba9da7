namespace StableDiffusion.Core.Randomness;

/// <summary>A seeded source of standard normal noise. One <see cref="Fill"/> call is one draw of a tensor with that many
/// elements (<c>torch.randn(shape, generator=g)</c>, <c>RandomState.randn(*shape)</c>, …): for the torch and Philox
/// sources the split of a buffer into calls matters, so callers fill exactly what the reference draws at once.</summary>
public interface INoiseGenerator
{
    /// <summary>The source's name (<see cref="RandomSource"/>).</summary>
    string Source { get; }

    /// <summary>Fills <paramref name="destination"/> with N(0, 1) samples: one draw of <c>destination.Length</c> elements.</summary>
    void Fill(Span<float> destination);
}
