namespace StableDiffusion.Server.Tests.Support;

/// <summary>One server with a model of every kind (loading them is the slow part), shared by the image-task tests.</summary>
public sealed class ImageServerFixture : IAsyncLifetime
{
    /// <summary>Small enough that an oversize test image is cheap to make.</summary>
    public const int MaxImageBytes = 100_000;

    public ServerFactory Factory { get; } = new(new()
    {
        ["Limits:MaxImageBytes"] = MaxImageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Models:Items:1:Name"] = "tiny-inpaint",
        ["Models:Items:1:Owner"] = "test",
        ["Models:Items:1:Path"] = ImageModels.Inpaint,
        ["Models:Items:2:Name"] = "tiny-upscale",
        ["Models:Items:2:Owner"] = "test",
        ["Models:Items:2:Path"] = ImageModels.Upscale,
        ["Models:Items:3:Name"] = "tiny-depth",
        ["Models:Items:3:Owner"] = "test",
        ["Models:Items:3:Path"] = ImageModels.Depth,
        ["Models:Items:4:Name"] = "tiny-depth-no-estimator",
        ["Models:Items:4:Owner"] = "test",
        ["Models:Items:4:Path"] = ImageModels.DepthWithoutEstimator,
        ["Models:Items:5:Name"] = "tiny-flagging",
        ["Models:Items:5:Owner"] = "test",
        ["Models:Items:5:Path"] = ImageModels.Flagging,
        ["Models:Items:5:SafetyChecker"] = "true",
    });

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync() => Client = await Factory.ReadyClientAsync();

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}
