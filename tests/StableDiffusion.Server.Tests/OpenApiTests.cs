using System.Net;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Tests;

public sealed class OpenApiTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Document_lists_every_v1_endpoint_with_responses()
    {
        var document = JsonNode.Parse(await _client.GetStringAsync("/openapi/v1.json"))!;

        var paths = document["paths"]!.AsObject();
        foreach (var (path, method) in new[]
        {
            ("/v1/predictions", "post"), ("/v1/predictions", "get"), ("/v1/predictions/{id}", "get"),
            ("/v1/predictions/{id}/cancel", "post"), ("/v1/predictions/{id}/stream", "get"),
            ("/v1/models/{owner}/{name}/predictions", "post"), ("/v1/models", "get"), ("/v1/models/{owner}/{name}", "get"),
            ("/v1/files/{id}", "get"),
        })
        {
            Assert.True(paths[path]?[method] is not null, $"{method} {path}");
        }
        var create = paths["/v1/predictions"]!["post"]!;
        Assert.NotNull(create["requestBody"]!["content"]!["application/json"]!["schema"]);
        Assert.Equal("an astronaut riding a horse on the moon",
            create["requestBody"]!["content"]!["application/json"]!["example"]!["input"]!["prompt"]!.GetValue<string>());
        var responses = create["responses"]!.AsObject();
        foreach (var status in new[] { "201", "400", "401", "404", "413", "422", "429", "503" })
        {
            Assert.True(responses.ContainsKey(status), status);
        }
        Assert.NotNull(responses["201"]!["content"]!["application/json"]!["example"]);
        Assert.NotNull(responses["429"]!["content"]!["application/problem+json"]!["example"]);
        foreach (var (path, item) in paths.Where(p => p.Key.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            foreach (var (method, op) in item!.AsObject())
            {
                var opResponses = op!["responses"]!.AsObject();
                Assert.True(opResponses.Any(r => r.Value!["content"]?.AsObject().Any(c => c.Value!["example"] is not null) == true),
                    $"{method} {path} has no response example");
                Assert.True(opResponses.ContainsKey("429"), $"{method} {path} does not document 429");
            }
        }
        var schemas = document["components"]!["schemas"]!.AsObject();
        Assert.True(schemas.ContainsKey("PredictionResponse"));
        Assert.True(schemas["GenerationInput"]!["properties"]!.AsObject().ContainsKey("num_inference_steps"));
    }

    [Fact]
    public async Task Swagger_ui_is_served()
    {
        var response = await _client.GetAsync("/swagger/index.html");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
