using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Tests.Configuration;

/// <summary>Models:Cuda, Models:IoBinding and Models:Warmup: bound from configuration, checked at start.</summary>
public sealed class GpuOptionsTests
{
    [Theory]
    [InlineData("512x512", 512, 512, 1)]
    [InlineData("768x512x4", 768, 512, 4)]
    [InlineData(" 64 x 64 ", 64, 64, 1)]
    public void Warmup_shapes_parse(string text, int width, int height, int images)
    {
        Assert.Equal((width, height, images), ModelsOptions.ParseShape(text));
    }

    [Theory]
    [InlineData("512")]
    [InlineData("511x512")]
    [InlineData("512x512x0")]
    [InlineData("512x512x17")]
    [InlineData("8192x512")]
    [InlineData("axb")]
    [InlineData("512x512x2x2")]
    public void Bad_warmup_shapes_are_refused(string text)
    {
        Assert.Null(ModelsOptions.ParseShape(text));
    }

    [Fact]
    public void Cuda_settings_bind_and_reach_the_core_options()
    {
        var options = Options(new()
        {
            ["Models:Cuda:CudnnConvAlgoSearch"] = "HEURISTIC",
            ["Models:Cuda:PreferNhwc"] = "true",
            ["Models:Cuda:UseTf32"] = "false",
            ["Models:Cuda:GpuMemoryLimitBytes"] = "4294967296",
            ["Models:Cuda:CudaGraph"] = "true",
            ["Models:Cuda:TensorRtEngineCacheDirectory"] = "/var/cache/trt",
            ["Models:IoBinding"] = "false",
            ["Models:DeviceSteps"] = "false",
            ["Models:Warmup:0"] = "512x512x2",
        }).Value;

        var core = options.Cuda;
        Assert.Equal("HEURISTIC", core.CudnnConvAlgoSearch);
        Assert.True(core.PreferNhwc);
        Assert.False(core.UseTf32);
        Assert.Equal(4294967296L, core.GpuMemoryLimitBytes);
        Assert.True(core.CudaGraph);
        Assert.Equal("/var/cache/trt", core.TensorRtEngineCacheDirectory);
        Assert.False(options.IoBinding);
        Assert.False(options.DeviceSteps);
        Assert.Equal([(512, 512, 2)], options.WarmupShapes());
    }

    [Theory]
    [InlineData("Models:Warmup:0", "512", "Models:Warmup")]
    [InlineData("Models:Cuda:CudnnConvAlgoSearch", "FASTEST", "Models:Cuda")]
    [InlineData("Models:Cuda:ArenaExtendStrategy", "grow", "Models:Cuda")]
    [InlineData("Models:Cuda:GpuMemoryLimitBytes", "-1", "Models:Cuda")]
    [InlineData("Models:ExecutionProvider", "rocm", "ExecutionProvider")]
    public void Bad_settings_fail_at_start_naming_the_key(string key, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Options(new() { [key] = value }).Value);

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensorrt_is_a_valid_provider()
    {
        Assert.Equal("tensorrt", Options(new() { ["Models:ExecutionProvider"] = "tensorrt" }).Value.ExecutionProvider);
    }

    private static IOptions<ModelsOptions> Options(Dictionary<string, string?> values)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddServerOptions();
        return services.BuildServiceProvider().GetRequiredService<IOptions<ModelsOptions>>();
    }
}
