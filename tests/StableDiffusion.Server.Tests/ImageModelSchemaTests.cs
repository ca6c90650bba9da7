using System.Net.Http.Json;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>The input schema lists the fields each model kind takes.</summary>
[Collection(ImageServerCollection.Name)]
public sealed class ImageModelSchemaTests(ImageServerFixture server)
{
    private async Task<(JsonObject Properties, string[] Required)> InputSchemaAsync(string name)
    {
        var model = (await server.Client.GetFromJsonAsync<JsonObject>($"/v1/models/test/{name}"))!;
        var input = model["latest_version"]!["openapi_schema"]!["components"]!["schemas"]!["Input"]!;
        return (input["properties"]!.AsObject(), input["required"]!.AsArray().Select(r => r!.GetValue<string>()).ToArray());
    }

    [Theory]
    [InlineData("tiny", "image,mask,prompt_strength", "depth_image,noise_level", "prompt")]
    [InlineData("tiny-inpaint", "image,mask,prompt_strength", "depth_image,noise_level", "prompt,image,mask")]
    [InlineData("tiny-upscale", "image,noise_level", "mask,prompt_strength,depth_image,width,height", "prompt,image")]
    [InlineData("tiny-depth", "image,depth_image,prompt_strength", "mask,noise_level", "prompt,image")]
    [InlineData("tiny-depth-no-estimator", "image,depth_image", "mask,noise_level", "prompt,image,depth_image")]
    public async Task Input_schema_lists_the_fields_the_model_takes(string model, string present, string absent, string required)
    {
        var (properties, requiredFields) = await InputSchemaAsync(model);

        Assert.All(present.Split(','), f => Assert.True(properties.ContainsKey(f), $"{model} should take {f}"));
        Assert.All(absent.Split(','), f => Assert.False(properties.ContainsKey(f), $"{model} should not take {f}"));
        Assert.Equal(required.Split(','), requiredFields);
    }
}
