using System.Text.Json.Nodes;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class DemoModelTests
{
    [Fact]
    public async Task Without_configured_models_the_demo_model_is_generated_and_says_it_is_random()
    {
        var cache = TinyModel.TempFolder("demo");
        await using var factory = new ServerFactory(new() { ["Models:DemoModelPath"] = cache }, tinyModel: false);
        var client = await factory.ReadyClientAsync();

        var models = JsonNode.Parse(await client.GetStringAsync("/v1/models"))!;
        var done = await Wire.CreatedAsync(client, Wire.Input(), prefer: "wait");

        Assert.True(File.Exists(Path.Combine(cache, "model_index.json")));
        Assert.Equal(DemoModel.Name, models["results"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("succeeded", done.Status());
        Assert.Contains("RANDOM weights", done["logs"]!.GetValue<string>());
        Assert.Equal(DemoModel.Name, done["version"]!.GetValue<string>());
    }
}
