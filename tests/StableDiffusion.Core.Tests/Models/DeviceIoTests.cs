using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Onnx;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Tests.Pipelines;
using DataType = Onnx.TensorProto.Types.DataType;

namespace StableDiffusion.Core.Tests.Models;

/// <summary>The UNet's bound (device-resident) I/O path runs the same code on the CPU with host buffers: it must give
/// the same bytes as plain runs. On a GPU the same path binds CUDA memory (tests/gpu checks CUDA against the CPU).</summary>
public sealed class DeviceIoTests
{
    private static readonly GenerationSettings Small = new()
    {
        Prompt = "a lighthouse at dusk",
        NegativePrompt = "blurry",
        Width = 64,
        Height = 48,
        Steps = 4,
        Seed = 7,
        NumOutputs = 2,
        WatermarkPayload = null,
    };

    private static StableDiffusionPipeline Load(string preset, bool? ioBinding, bool fp16 = false) =>
        StableDiffusionPipeline.Load(SyntheticModelCache.Get(preset, fp16), new ModelLoadOptions { ExecutionProvider = "cpu", IoBinding = ioBinding });

    [Theory]
    [InlineData("tiny", false)]
    [InlineData("tiny", true)]
    [InlineData("tiny-v", false)]
    [InlineData("tiny-sd1", false)]
    public void Bound_io_gives_the_same_images_as_plain_runs(string preset, bool fp16)
    {
        using var plain = Load(preset, ioBinding: false, fp16);
        using var bound = Load(preset, ioBinding: true, fp16);
        Assert.False(plain.Info.IoBinding);
        Assert.True(bound.Info.IoBinding);

        var expected = plain.Generate(Small);
        var first = bound.Generate(Small);
        // The second job of the same shape reuses the kept buffers (and, on CUDA, the captured graph).
        var second = bound.Generate(Small with { Seed = 8, GuidanceScale = 1.0 });
        var expectedSecond = plain.Generate(Small with { Seed = 8, GuidanceScale = 1.0 });

        for (int k = 0; k < Small.NumOutputs; k++)
        {
            Assert.Equal(expected.Images[k].Bytes, first.Images[k].Bytes);
            Assert.Equal(expectedSecond.Images[k].Bytes, second.Images[k].Bytes);
        }

        Assert.NotEqual(first.Images[0].Bytes, second.Images[0].Bytes);
    }

    [Fact]
    public void Warm_up_runs_the_unet_at_each_shape_and_changes_no_result()
    {
        using var plain = Load("tiny", ioBinding: false);
        using var warmed = Load("tiny", ioBinding: true);
        var unet = warmed.Components.Single(c => c.Name == "unet");
        Assert.Equal(0, unet.RunSeconds);

        warmed.WarmUp([(64, 48, 2), (32, 32, 1)]);

        Assert.True(unet.RunSeconds > 0);
        Assert.Equal(plain.Generate(Small).Images[1].Bytes, warmed.Generate(Small).Images[1].Bytes);
    }

    [Fact]
    public void Batched_jobs_with_bound_io_give_the_same_images_as_plain_runs()
    {
        using var plain = Load("tiny", ioBinding: false);
        using var bound = Load("tiny", ioBinding: true);
        var jobs = new[]
        {
            new BatchJob(Small with { NumOutputs = 1 }),
            new BatchJob(Small with { NumOutputs = 2, Seed = 20, Prompt = "a red boat", GuidanceScale = 5 }),
        };

        var expected = plain.GenerateBatch(jobs).Select(o => o.GetResult().Finish()).ToArray();
        var actual = bound.GenerateBatch(jobs).Select(o => o.GetResult().Finish()).ToArray();

        for (int j = 0; j < jobs.Length; j++)
        {
            Assert.Equal(expected[j].Images.Select(i => i.Bytes), actual[j].Images.Select(i => i.Bytes));
        }
    }

    [Fact]
    public void Cpu_default_is_plain_runs()
    {
        using var pipeline = Load("tiny", ioBinding: null);

        Assert.False(pipeline.Info.IoBinding);
        Assert.False(pipeline.Info.CudaGraph);
    }

    [Fact]
    public void Class_labels_and_extra_channels_are_bound_too()
    {
        var upscale = new GenerationSettings
        {
            Task = GenerationTask.Upscale,
            Prompt = "a cat",
            Steps = 3,
            Seed = 9,
            WatermarkPayload = null,
            Image = TestImages.Gradient(40, 24),
        };
        using var plain = Load("tiny-upscale", ioBinding: false);
        using var bound = Load("tiny-upscale", ioBinding: true);

        Assert.Equal(plain.Generate(upscale).Images[0].Bytes, bound.Generate(upscale).Images[0].Bytes);
    }

    [Fact]
    public void Shapes_beyond_the_kept_ones_still_bind_and_match()
    {
        using var plain = Load("tiny", ioBinding: false);
        using var bound = Load("tiny", ioBinding: true);

        // One more shape than are kept: the last binds for its run only.
        for (int i = 0; i <= UNetBindings.MaxShapes; i++)
        {
            var settings = Small with { Width = 32 + 8 * i, Height = 32, Steps = 2, NumOutputs = 1 };
            Assert.Equal(plain.Generate(settings).Images[0].Bytes, bound.Generate(settings).Images[0].Bytes);
        }
    }

    [Fact]
    public void Cuda_provider_options_are_validated_and_named_as_onnx_runtime_names_them()
    {
        var options = new CudaOptions { CudnnConvAlgoSearch = "HEURISTIC", PreferNhwc = true, UseTf32 = false, GpuMemoryLimitBytes = 8L << 30 }
            .ProviderOptions(deviceId: 1, cudaGraph: true);

        Assert.Equal("1", options["device_id"]);
        Assert.Equal("HEURISTIC", options["cudnn_conv_algo_search"]);
        Assert.Equal("1", options["prefer_nhwc"]);
        Assert.Equal("0", options["use_tf32"]);
        Assert.Equal("8589934592", options["gpu_mem_limit"]);
        Assert.Equal("1", options["enable_cuda_graph"]);
        Assert.Equal("kNextPowerOfTwo", options["arena_extend_strategy"]);

        var bad = Assert.Throws<ArgumentException>(() => new CudaOptions { CudnnConvAlgoSearch = "FASTEST" }.ProviderOptions(0, false));
        Assert.Contains("EXHAUSTIVE, HEURISTIC, DEFAULT", bad.Message);
        Assert.Throws<ArgumentException>(() => new CudaOptions { ArenaExtendStrategy = "grow" }.ProviderOptions(0, false));
        Assert.Throws<ArgumentException>(() => new CudaOptions { GpuMemoryLimitBytes = -1 }.ProviderOptions(0, false));
    }

    [Fact]
    public void TensorRt_engine_cache_options_name_the_folder()
    {
        string cache = Path.Combine(Path.GetTempPath(), "sd-trt-" + Guid.NewGuid().ToString("N"));
        var options = new CudaOptions { TensorRtEngineCacheDirectory = cache, TensorRtFp16 = true }.TensorRtProviderOptions(0);

        Assert.Equal("1", options["trt_engine_cache_enable"]);
        Assert.Equal(cache, options["trt_engine_cache_path"]);
        Assert.Equal("1", options["trt_fp16_enable"]);
        Assert.True(Directory.Exists(cache));
        Directory.Delete(cache);
    }

    [Fact]
    public void TensorRt_without_its_libraries_fails_saying_what_it_needs()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"), new ModelLoadOptions { ExecutionProvider = "tensorrt" }, NullLogger.Instance));

        Assert.Contains("TensorRT", error.Message);
        Assert.Contains("libnvinfer.so.10", error.Message);
    }

    [Fact]
    public void A_model_with_cuda_only_contrib_operators_fails_on_the_cpu_with_a_clear_error()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sd-contrib-{Guid.NewGuid():N}.onnx");
        WriteGroupNormModel(path);
        try
        {
            using var options = new Microsoft.ML.OnnxRuntime.SessionOptions();
            var error = Assert.Throws<ModelLoadException>(() => OnnxComponent.Open("unet", path, options, "cpu"));

            Assert.True(error.Message.Contains("only ONNX Runtime's CUDA"), error.Message);
            Assert.Contains("GroupNorm", error.Message);
            Assert.Contains("only ONNX Runtime's CUDA execution provider implements", error.Message);
            Assert.Contains("ExecutionProvider=cuda", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>One com.microsoft GroupNorm node in NHWC, float16, as ONNX Runtime's optimize_pipeline.py writes for
    /// a UNet (a CUDA-only contrib operator).</summary>
    private static void WriteGroupNormModel(string path)
    {
        var graph = new GraphProto { Name = "unet" };
        graph.Input.Add(Value("sample", DataType.Float16, 1, 8, 8, 32));
        graph.Output.Add(Value("out_sample", DataType.Float16, 1, 8, 8, 32));
        graph.Initializer.Add(Floats("gamma", 32, 1f));
        graph.Initializer.Add(Floats("beta", 32, 0f));
        var node = new NodeProto { OpType = "GroupNorm", Domain = "com.microsoft", Name = "GroupNorm_0" };
        node.Input.AddRange(["sample", "gamma", "beta"]);
        node.Output.Add("out_sample");
        node.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = 1e-5f });
        node.Attribute.Add(new AttributeProto { Name = "groups", Type = AttributeProto.Types.AttributeType.Int, I = 32 });
        node.Attribute.Add(new AttributeProto { Name = "activation", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        node.Attribute.Add(new AttributeProto { Name = "channels_last", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        using var stream = File.Create(path);
        model.WriteTo(stream);
    }

    private static ValueInfoProto Value(string name, DataType type, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static TensorProto Floats(string name, int count, float value)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Float };
        tensor.Dims.Add(count);
        for (int i = 0; i < count; i++)
        {
            tensor.FloatData.Add(value);
        }

        return tensor;
    }
}
