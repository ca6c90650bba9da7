namespace StableDiffusion.Synthetic;

/// <summary>Options for a synthetic model folder.</summary>
/// <param name="Fp16">Store weights and tensor I/O in float16, as GPU exports are.</param>
/// <param name="Seed">Seed of the random weights.</param>
public sealed record SyntheticModelOptions(bool Fp16 = false, int Seed = 0);

/// <summary>Writes complete model folders (optimum layout, real I/O contract, random weights).</summary>
public static class SyntheticModels
{
    public static IReadOnlyList<string> Presets => throw new NotImplementedException();

    /// <summary>Builds <paramref name="preset"/> into <paramref name="outputDirectory"/> (created; existing files overwritten).</summary>
    public static void Build(string preset, string outputDirectory, SyntheticModelOptions? options = null) => throw new NotImplementedException();
}
