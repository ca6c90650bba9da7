using System.Net;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class ModelsApiTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task List_names_the_configured_models()
    {
        var page = JsonNode.Parse(await _client.GetStringAsync("/v1/models"))!;

        var model = page["results"]!.AsArray().Single()!;
        Assert.Equal("test", model["owner"]!.GetValue<string>());
        Assert.Equal("tiny", model["name"]!.GetValue<string>());
        Assert.Equal("http://localhost/v1/models/test/tiny", model["url"]!.GetValue<string>());
    }

    [Fact]
    public async Task Model_has_the_input_schema_with_the_native_size_as_default()
    {
        var model = JsonNode.Parse(await _client.GetStringAsync("/v1/models/test/tiny"))!;

        var input = model["latest_version"]!["openapi_schema"]!["components"]!["schemas"]!["Input"]!;
        var native = JsonNode.Parse(await _client.GetStringAsync("/v1/models"))!;
        Assert.Equal("object", input["type"]!.GetValue<string>());
        Assert.Equal(["prompt"], input["required"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray());
        var properties = input["properties"]!.AsObject();
        foreach (var field in new[] { "prompt", "negative_prompt", "width", "height", "num_outputs", "num_inference_steps", "guidance_scale", "scheduler", "seed", "output_format", "image", "mask", "prompt_strength" })
        {
            Assert.True(properties.ContainsKey(field), field);
        }
        Assert.Equal(8, properties["width"]!["multipleOf"]!.GetValue<int>());
        Assert.Contains("KarrasDPM", properties["scheduler"]!["enum"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.NotNull(native);
    }

    [Fact]
    public async Task Default_width_is_the_models_native_width()
    {
        var input = Wire.Input();
        input.Remove("width");
        input.Remove("height");
        var schema = JsonNode.Parse(await _client.GetStringAsync("/v1/models/test/tiny"))!;
        var nativeWidth = schema["latest_version"]!["openapi_schema"]!["components"]!["schemas"]!["Input"]!["properties"]!["width"]!["default"]!.GetValue<int>();

        var done = await Wire.CreatedAsync(_client, input, prefer: "wait");

        Assert.Contains($"{nativeWidth}x{nativeWidth}", done["logs"]!.GetValue<string>());
    }

    [Fact]
    public async Task Versions_list_has_the_one_version_and_get_returns_it()
    {
        var versions = JsonNode.Parse(await _client.GetStringAsync("/v1/models/test/tiny/versions"))!;
        var version = JsonNode.Parse(await _client.GetStringAsync("/v1/models/test/tiny/versions/tiny"))!;
        var missing = await _client.GetAsync("/v1/models/test/tiny/versions/other");

        Assert.Equal("tiny", versions["results"]!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.NotNull(version["openapi_schema"]!["components"]!["schemas"]!["Input"]);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Unknown_model_is_404()
    {
        var response = await _client.GetAsync("/v1/models/test/none");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
