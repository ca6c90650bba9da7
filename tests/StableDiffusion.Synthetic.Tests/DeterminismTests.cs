namespace StableDiffusion.Synthetic.Tests;

/// <summary>A seed fixes every byte of a folder; another seed changes the weights and nothing else.</summary>
public class DeterminismTests
{
    [Fact]
    public void Same_seed_writes_byte_identical_folders()
    {
        string first = SyntheticFolders.NewDirectory("seed7a");
        string second = SyntheticFolders.NewDirectory("seed7b");
        SyntheticModels.Build("tiny", first, new SyntheticModelOptions(Seed: 7));
        SyntheticModels.Build("tiny", second, new SyntheticModelOptions(Seed: 7));

        string[] files = RelativeFiles(first);
        Assert.Equal(files, RelativeFiles(second));
        Assert.Contains(Path.Combine("unet", "model.onnx"), files);
        foreach (string file in files)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(first, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(second, file))),
                $"{file} differs between two builds with the same seed");
        }
    }

    [Fact]
    public void Different_seed_changes_every_model_but_not_the_tokenizer()
    {
        string seven = SyntheticFolders.NewDirectory("seed7");
        string eight = SyntheticFolders.NewDirectory("seed8");
        SyntheticModels.Build("tiny", seven, new SyntheticModelOptions(Seed: 7));
        SyntheticModels.Build("tiny", eight, new SyntheticModelOptions(Seed: 8));

        foreach (string component in new[] { "text_encoder", "unet", "vae_decoder", "vae_encoder" })
        {
            byte[] a = File.ReadAllBytes(Path.Combine(seven, component, "model.onnx"));
            byte[] b = File.ReadAllBytes(Path.Combine(eight, component, "model.onnx"));
            // Same graph, same tensor sizes: only the weight bytes may differ.
            Assert.Equal(a.Length, b.Length);
            Assert.False(a.AsSpan().SequenceEqual(b), $"{component} has the same weights for seeds 7 and 8");
        }
        Assert.Equal(File.ReadAllText(Path.Combine(seven, "tokenizer", "vocab.json")), File.ReadAllText(Path.Combine(eight, "tokenizer", "vocab.json")));
    }

    [Fact]
    public void Rebuilding_into_an_existing_folder_overwrites_it()
    {
        string folder = SyntheticFolders.NewDirectory("rebuild");
        SyntheticModels.Build("tiny", folder, new SyntheticModelOptions(Seed: 1, ExternalData: true));
        SyntheticModels.Build("tiny", folder, new SyntheticModelOptions(Seed: 2));

        Assert.False(File.Exists(Path.Combine(folder, "unet", "model.onnx_data")), "a stale model.onnx_data survived the rebuild");
        Assert.Contains("\"seed\": 2", File.ReadAllText(Path.Combine(folder, "synthetic.json")));
    }

    private static string[] RelativeFiles(string root) =>
        [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];
}
