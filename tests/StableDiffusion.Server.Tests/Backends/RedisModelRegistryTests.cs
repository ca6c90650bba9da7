using System.Text.Json;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Backends.Redis;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>Model metadata a worker publishes and an api replica reads back, through a real Redis.</summary>
public sealed class RedisModelRegistryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [RedisFact]
    public async Task Published_models_read_back_whole_on_another_replica()
    {
        var storage = RedisFixture.Storage();
        var worker = new RedisModelRegistry(redis.Connection, storage);
        var api = new RedisModelRegistry(redis.Connection, storage);
        var inpaint = new ModelInfo("sd2-inpaint", "/models/inpaint", "StableDiffusionInpaintPipeline",
            [GenerationTask.Inpaint, GenerationTask.ImageToImage], 512, 512, "PNDM", "epsilon", 8, "cuda")
        { UnetInChannels = 9, SafetyChecker = true };
        var tiny = new ModelInfo("tiny", "/models/tiny", "StableDiffusionPipeline", [GenerationTask.TextToImage], 64, 64, "DDIM", "v_prediction", 8, "cpu");

        await worker.PublishAsync(tiny);
        await worker.PublishAsync(inpaint);
        var models = await api.ReadAllAsync();

        Assert.Equal(["sd2-inpaint", "tiny"], models.Select(m => m.Name));
        // Records compare lists by reference: compare the JSON a client would see.
        Assert.Equal(JsonSerializer.Serialize(inpaint, JobRecord.Json), JsonSerializer.Serialize(models[0], JobRecord.Json));
        Assert.Equal([GenerationTask.Inpaint, GenerationTask.ImageToImage], models[0].Tasks);
        Assert.Equal(9, models[0].UnetInChannels);
        Assert.True(await worker.RemoveAsync("tiny"));
        Assert.Equal(["sd2-inpaint"], (await api.ReadAllAsync()).Select(m => m.Name));
    }
}
