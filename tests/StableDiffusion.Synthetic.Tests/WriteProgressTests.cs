namespace StableDiffusion.Synthetic.Tests;

/// <summary>The bytes-written callback <c>sd make-model</c> shows as its progress.</summary>
public class WriteProgressTests
{
    [Fact]
    public void Build_reports_a_growing_total_that_ends_at_the_size_of_the_model_files()
    {
        string folder = SyntheticFolders.NewDirectory("progress");
        var totals = new List<long>();

        SyntheticModels.Build("tiny", folder, new SyntheticModelOptions(ExternalData: true), new Recorder(totals));

        long modelBytes = Directory.EnumerateFiles(folder, "model.onnx*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.Equal(modelBytes, totals[^1]);
        // Weights in model.onnx_data are reported tensor by tensor, not only once per component (4 model.onnx files).
        Assert.True(totals.Count > 8, $"{totals.Count} reports");
        Assert.All(totals.Zip(totals.Skip(1)), pair => Assert.True(pair.Second > pair.First, $"{pair.Second} after {pair.First}"));
    }

    private sealed class Recorder(List<long> totals) : IProgress<long>
    {
        public void Report(long value) => totals.Add(value);
    }
}
