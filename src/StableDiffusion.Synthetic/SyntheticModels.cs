using StableDiffusion.Synthetic.Networks;

namespace StableDiffusion.Synthetic;

/// <summary>Options for a synthetic model folder.</summary>
/// <param name="Fp16">Store weights and tensor I/O in float16, as GPU exports are.</param>
/// <param name="Seed">Seed of the random weights.</param>
/// <param name="ExternalData">
/// Write the text encoder's and UNet's weights to <c>model.onnx_data</c> even when they would fit in the protobuf, as exports over
/// 2 GB must (the full-size presets always do): lets a tiny model exercise a loader's external-data path.
/// </param>
/// <param name="SafetyChecker">
/// Add <c>safety_checker/</c> (the NSFW checker's I/O; flags near-white images only, see the synthetic.json note) and its CLIP
/// feature extractor config. Not combinable with depth presets, whose feature_extractor is DPT's.
/// </param>
public sealed record SyntheticModelOptions(bool Fp16 = false, int Seed = 0, bool ExternalData = false, bool SafetyChecker = false);

/// <summary>Writes complete model folders (optimum layout, real I/O contract, random weights).</summary>
public static class SyntheticModels
{
    public static IReadOnlyList<string> Presets { get; } = [.. SyntheticPreset.All.Select(p => p.Name)];

    /// <summary>Builds <paramref name="preset"/> into <paramref name="outputDirectory"/> (created; existing files overwritten).</summary>
    /// <param name="bytesWritten">Told the running total of ONNX model and weight bytes written, after each write (the
    /// tokenizer and JSON configs, a few kilobytes, are not counted).</param>
    public static void Build(string preset, string outputDirectory, SyntheticModelOptions? options = null, IProgress<long>? bytesWritten = null)
    {
        options ??= new SyntheticModelOptions();
        SyntheticPreset spec = SyntheticPreset.Find(preset)
            ?? throw new ArgumentException($"Unknown synthetic preset '{preset}'. Known: {string.Join(", ", Presets)}.", nameof(preset));
        if (options.SafetyChecker && spec.DepthEstimator)
        {
            throw new ArgumentException($"Preset '{spec.Name}' has a DPT feature extractor; a safety checker needs CLIP's.", nameof(options));
        }
        Directory.CreateDirectory(outputDirectory);

        int vocabSize = SyntheticTokenizer.Write(Path.Combine(outputDirectory, "tokenizer"), spec.Tokenizer);
        TextEncoderSpec text = spec.TextEncoder with { VocabSize = Math.Max(spec.TextEncoder.VocabSize, vocabSize) };

        bool external = spec.ExternalData || options.ExternalData;
        var progress = new WriteProgress(bytesWritten);
        BuildComponent(outputDirectory, "text_encoder", external, options, progress, b => TextEncoderGraph.Build(b, text));
        BuildComponent(outputDirectory, "unet", external, options, progress, b => UNetGraph.Build(b, spec.UNet));
        BuildComponent(outputDirectory, "vae_decoder", external: false, options, progress, b => VaeDecoderGraph.Build(b, spec.Vae));
        BuildComponent(outputDirectory, "vae_encoder", external: false, options, progress, b => VaeEncoderGraph.Build(b, spec.Vae));
        if (spec.DepthEstimator)
        {
            BuildComponent(outputDirectory, "depth_estimator", external: false, options, progress, DepthEstimatorGraph.Build);
        }
        if (options.SafetyChecker)
        {
            BuildComponent(outputDirectory, "safety_checker", external: false, options, progress, SafetyCheckerGraph.Build);
        }
        ModelFolderConfigs.WriteAll(outputDirectory, spec with { TextEncoder = text }, text.VocabSize, options);
    }

    private static void BuildComponent(string root, string component, bool external, SyntheticModelOptions options, WriteProgress progress,
        Action<GraphBuilder> build)
    {
        string directory = Path.Combine(root, component);
        Directory.CreateDirectory(directory);
        string dataPath = Path.Combine(directory, "model.onnx_data");
        File.Delete(dataPath);
        using ExternalDataFile? data = external ? new ExternalDataFile(dataPath, progress) : null;
        var builder = new GraphBuilder(component, options.Seed, options.Fp16, data);
        build(builder);
        progress.Add(builder.Save(Path.Combine(directory, "model.onnx")));
    }
}
