using Microsoft.ML.OnnxRuntime;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>ONNX Runtime's CPU provider runs every component and the outputs have the promised shapes and finite values.</summary>
public class InferenceTests
{
    public static TheoryData<ModelCase> Cases => ModelContracts.All();

    private const int Batch = 2;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Text_encoder_outputs_hidden_states_and_pools_at_the_end_of_text_token(ModelCase model)
    {
        string folder = SyntheticFolders.Get(model);
        int d = ModelContracts.HiddenSize(model.Preset);
        Tokens tokens = Tokens.Read(folder);
        // Row 0: BOS, 3 tokens, EOS, padding; row 1: BOS, 6 tokens, EOS, padding.
        float[] ids = new float[Batch * 77];
        int[] eosPositions = [4, 7];
        for (int row = 0; row < Batch; row++)
        {
            Span<float> r = ids.AsSpan(row * 77, 77);
            r.Fill(tokens.Pad);
            r[0] = tokens.Bos;
            for (int i = 1; i < eosPositions[row]; i++)
            {
                r[i] = 300 + 17 * i + row;
            }
            r[eosPositions[row]] = tokens.Eos;
        }

        using var session = OnnxRunner.Open(Path.Combine(folder, "text_encoder", "model.onnx"));
        var outputs = OnnxRunner.Run(session, new Dictionary<string, (long[], float[])> { ["input_ids"] = ([Batch, 77], ids) });

        RunOutput hidden = outputs["last_hidden_state"];
        RunOutput pooled = outputs["pooler_output"];
        Assert.Equal([Batch, 77L, d], hidden.Shape);
        Assert.Equal([Batch, (long)d], pooled.Shape);
        AssertFiniteAndVaried(hidden.Values);
        // transformers' CLIPTextModel pools the hidden state at argmax(input_ids): the (first) end-of-text token.
        for (int row = 0; row < Batch; row++)
        {
            float[] expected = hidden.Values.AsSpan((row * 77 + eosPositions[row]) * d, d).ToArray();
            float[] actual = pooled.Values.AsSpan(row * d, d).ToArray();
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unet_predicts_noise_shaped_like_the_sample(ModelCase model)
    {
        using var session = OpenUNet(model);
        RunOutput output = RunUNet(session, model, height: 8, width: 8, timestep: 981, contextSalt: 0)["out_sample"];
        Assert.Equal([Batch, 4L, 8, 8], output.Shape);
        AssertFiniteAndVaried(output.Values);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unet_accepts_latent_sizes_that_are_not_multiples_of_its_downsampling(ModelCase model)
    {
        using var session = OpenUNet(model);
        RunOutput output = RunUNet(session, model, height: 10, width: 6, timestep: 500, contextSalt: 0)["out_sample"];
        Assert.Equal([Batch, 4L, 10, 6], output.Shape);
        AssertFiniteAndVaried(output.Values);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unet_output_depends_on_the_timestep_and_the_text(ModelCase model)
    {
        using var session = OpenUNet(model);
        float[] baseline = RunUNet(session, model, 8, 8, timestep: 981, contextSalt: 0)["out_sample"].Values;
        float[] otherTimestep = RunUNet(session, model, 8, 8, timestep: 21, contextSalt: 0)["out_sample"].Values;
        float[] otherText = RunUNet(session, model, 8, 8, timestep: 981, contextSalt: 1)["out_sample"].Values;
        Assert.True(MaxAbsDifference(baseline, otherTimestep) > 1e-3, "the timestep does not reach the output");
        Assert.True(MaxAbsDifference(baseline, otherText) > 1e-3, "encoder_hidden_states does not reach the output");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Vae_decoder_upsamples_latents_by_the_latent_factor(ModelCase model)
    {
        string folder = SyntheticFolders.Get(model);
        int factor = ModelContracts.LatentFactor(model.Preset);
        using var session = OnnxRunner.Open(Path.Combine(folder, "vae_decoder", "model.onnx"));
        var outputs = OnnxRunner.Run(session, new Dictionary<string, (long[], float[])>
        {
            ["latent_sample"] = ([Batch, 4, 8, 6], OnnxRunner.Pattern(Batch * 4 * 8 * 6)),
        });
        Assert.Equal([Batch, 3L, 8 * factor, 6 * factor], outputs["sample"].Shape);
        AssertFiniteAndVaried(outputs["sample"].Values);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Vae_encoder_downsamples_images_by_the_latent_factor(ModelCase model)
    {
        string folder = SyntheticFolders.Get(model);
        int factor = ModelContracts.LatentFactor(model.Preset);
        using var session = OnnxRunner.Open(Path.Combine(folder, "vae_encoder", "model.onnx"));
        var outputs = OnnxRunner.Run(session, new Dictionary<string, (long[], float[])>
        {
            ["sample"] = ([Batch, 3, 64, 48], OnnxRunner.Pattern(Batch * 3 * 64 * 48)),
        });
        RunOutput latents = outputs.Single().Value;
        int channels = model.Preset == "tiny-sd1" ? 4 : 8;
        Assert.Equal([Batch, (long)channels, 64 / factor, 48 / factor], latents.Shape);
        AssertFiniteAndVaried(latents.Values);
    }

    [Fact]
    public void Unet_at_512_pixels_runs_with_batch_2()
    {
        // The demo size: 64×64 latents, classifier-free guidance batch.
        var model = new ModelCase("tiny", false);
        using var session = OpenUNet(model);
        RunOutput output = RunUNet(session, model, 64, 64, timestep: 981, contextSalt: 0)["out_sample"];
        Assert.Equal([Batch, 4L, 64, 64], output.Shape);
        AssertFiniteAndVaried(output.Values);
    }

    private static InferenceSession OpenUNet(ModelCase model) =>
        OnnxRunner.Open(Path.Combine(SyntheticFolders.Get(model), "unet", "model.onnx"));

    private static Dictionary<string, RunOutput> RunUNet(InferenceSession session, ModelCase model, int height, int width, float timestep, int contextSalt)
    {
        int d = ModelContracts.HiddenSize(model.Preset);
        int channels = ModelContracts.UNetChannels(model.Preset);
        int[] timestepDims = session.InputMetadata["timestep"].Dimensions;
        long[] timestepShape = timestepDims.Length == 0 ? [] : timestepDims[0] == 1 ? [1] : [Batch];
        float[] timesteps = new float[timestepShape.Length == 0 ? 1 : timestepShape[0]];
        timesteps.AsSpan().Fill(timestep);
        var inputs = new Dictionary<string, (long[], float[])>
        {
            ["sample"] = ([Batch, channels, height, width], OnnxRunner.Pattern(Batch * channels * height * width)),
            ["timestep"] = (timestepShape, timesteps),
            ["encoder_hidden_states"] = ([Batch, 77, d], OnnxRunner.Pattern(Batch * 77 * d, salt: 100 + contextSalt)),
        };
        if (session.InputMetadata.ContainsKey("class_labels"))
        {
            // The x4 upscaler's noise level (diffusers' default is 20).
            inputs["class_labels"] = ([Batch], [20f, 20f]);
        }
        return OnnxRunner.Run(session, inputs);
    }

    private static void AssertFiniteAndVaried(float[] values)
    {
        Assert.All(values, v => Assert.True(float.IsFinite(v), "non-finite output"));
        Assert.True(values.Max() - values.Min() > 1e-3f, "output is constant");
    }

    private static float MaxAbsDifference(float[] a, float[] b)
    {
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        return max;
    }
}
