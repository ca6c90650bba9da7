namespace StableDiffusion.Synthetic.Tests;

public class SmokeTests
{
    [Fact]
    public void Tiny_unet_runs_on_64x64_latents_with_batch_2()
    {
        string dir = SyntheticFolders.Get("tiny");
        using var session = OnnxRunner.Open(Path.Combine(dir, "unet", "model.onnx"));
        var outputs = OnnxRunner.Run(session, new Dictionary<string, (long[], float[])>
        {
            ["sample"] = ([2, 4, 64, 64], OnnxRunner.Pattern(2 * 4 * 64 * 64)),
            ["timestep"] = ([1], [981f]),
            ["encoder_hidden_states"] = ([2, 77, 32], OnnxRunner.Pattern(2 * 77 * 32)),
        });
        Assert.Equal([2L, 4, 64, 64], outputs["out_sample"].Shape);
        Assert.All(outputs["out_sample"].Values, v => Assert.True(float.IsFinite(v)));
    }
}
