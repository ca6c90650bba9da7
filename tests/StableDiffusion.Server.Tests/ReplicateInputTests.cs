using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>
/// Input errors as Replicate's hosted API answers them (422 with a detail naming every field), and the size inputs
/// Replicate-style clients send instead of width/height: <c>size</c> ("WxH") and <c>aspect_ratio</c> ("W:H").
/// </summary>
public sealed class ReplicateInputTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private static JsonObject Input(Action<JsonObject> change)
    {
        var input = Wire.Input();
        input.Remove("width");
        input.Remove("height");
        change(input);
        return input;
    }

    private async Task<JsonObject> ProblemAsync(JsonObject input)
    {
        var response = await Wire.CreateAsync(_client, input);
        var problem = await Wire.ProblemAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, problem.ToJsonString());
        return problem;
    }

    private async Task<(int Width, int Height)> OutputSizeAsync(JsonObject input)
    {
        var created = await Wire.CreatedAsync(_client, input);
        var done = await Wire.WaitDoneAsync(_client, created.Id());
        Assert.True(done.Status() == "succeeded", done.ToJsonString());
        using var image = Image.Load(await ImageWire.OutputAsync(_client, done));
        return (image.Width, image.Height);
    }

    [Fact]
    public async Task Input_errors_are_422_with_a_detail_naming_every_field_and_why()
    {
        var problem = await ProblemAsync(Input(i =>
        {
            i["width"] = 100;
            i["height"] = 64;
            i["num_inference_steps"] = 0;
            i.Remove("prompt");
        }));

        Assert.Equal("Input validation failed", problem["title"]!.GetValue<string>());
        Assert.Equal(422, problem["status"]!.GetValue<int>());
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains("'prompt' is required", detail);
        Assert.Contains("'num_inference_steps' must be between 1 and 999", detail);
        Assert.Contains("'width' must be a multiple of 8", detail);
        Assert.Equal("must be a multiple of 8", problem["errors"]!["width"]![0]!.GetValue<string>());
        var fields = problem["invalid_fields"]!.AsArray().Select(f => f!["field"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(["prompt", "num_inference_steps", "width"], fields);
    }

    [Fact]
    public async Task A_body_that_is_not_json_stays_a_400()
    {
        var response = await _client.PostAsync("/v1/predictions", new StringContent("{not json", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'body'", (await Wire.ProblemAsync(response))["detail"]!.GetValue<string>());
    }

    [Theory]
    // The tiny model is 512x512: sqrt(512*512*16/9) = 682.7 -> 680, sqrt(512*512*9/16) = 384.
    [InlineData("16:9", 680, 384)]
    [InlineData("1:1", 512, 512)]
    // sqrt(262144*2/3) = 418.0 -> 416, sqrt(262144*3/2) = 627.1 -> 624.
    [InlineData("2:3", 416, 624)]
    public async Task Aspect_ratio_keeps_the_native_pixel_count_in_multiples_of_8(string ratio, int width, int height)
    {
        var size = await OutputSizeAsync(Input(i =>
        {
            i["aspect_ratio"] = ratio;
            i["num_inference_steps"] = 1;
        }));

        Assert.Equal((width, height), size);
    }

    [Fact]
    public async Task Size_is_width_x_height()
    {
        var size = await OutputSizeAsync(Input(i => i["size"] = "96x64"));

        Assert.Equal((96, 64), size);
    }

    [Fact]
    public async Task Size_and_width_height_that_agree_are_accepted()
    {
        var size = await OutputSizeAsync(Input(i =>
        {
            i["size"] = "96x64";
            i["width"] = 96;
            i["height"] = 64;
        }));

        Assert.Equal((96, 64), size);
    }

    [Fact]
    public async Task Width_that_disagrees_with_aspect_ratio_is_422_naming_both()
    {
        var problem = await ProblemAsync(Input(i =>
        {
            i["aspect_ratio"] = "16:9";
            i["width"] = 512;
        }));

        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains("'width' conflicts with 'aspect_ratio' (680x384)", detail);
        Assert.Contains("'aspect_ratio' gives 680x384, which conflicts with 'width'", detail);
    }

    [Fact]
    public async Task Size_and_aspect_ratio_that_disagree_are_422_naming_both()
    {
        var problem = await ProblemAsync(Input(i =>
        {
            i["aspect_ratio"] = "16:9";
            i["size"] = "64x64";
        }));

        Assert.NotNull(problem["errors"]!["size"]);
        Assert.NotNull(problem["errors"]!["aspect_ratio"]);
    }

    [Theory]
    [InlineData("aspect_ratio", "wide", "must be W:H with positive numbers")]
    [InlineData("aspect_ratio", "0:1", "must be W:H with positive numbers")]
    [InlineData("size", "big", "must be WIDTHxHEIGHT")]
    [InlineData("size", "100x64", "gives a width of 100, which must be a multiple of 8")]
    [InlineData("size", "4096x64", "gives a width of 4096, which must be between 64 and 1024")]
    [InlineData("aspect_ratio", "100:1", "gives a width of 5120, which must be between 64 and 1024")]
    public async Task Bad_size_inputs_are_422_on_their_field(string field, string value, string message)
    {
        var problem = await ProblemAsync(Input(i => i[field] = value));

        Assert.Contains(message, problem["errors"]![field]![0]!.GetValue<string>());
        Assert.Contains($"'{field}' ", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Size_of_the_wrong_type_is_422_on_size()
    {
        var problem = await ProblemAsync(Input(i => i["size"] = 512));

        Assert.NotNull(problem["errors"]!["size"]);
    }

    [Fact]
    public async Task The_model_schema_offers_size_and_aspect_ratio()
    {
        var version = (await _client.GetFromJsonAsync<JsonObject>("/v1/models/test/tiny"))!["latest_version"]!;
        var properties = version["openapi_schema"]!["components"]!["schemas"]!["Input"]!["properties"]!;

        Assert.Equal("string", properties["aspect_ratio"]!["type"]!.GetValue<string>());
        Assert.Contains("512x512", properties["aspect_ratio"]!["description"]!.GetValue<string>());
        Assert.Equal("string", properties["size"]!["type"]!.GetValue<string>());
        Assert.Equal(80, properties["output_quality"]!["default"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_openapi_document_offers_size_and_aspect_ratio_and_documents_the_422()
    {
        var document = (await _client.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        var input = document["components"]!["schemas"]!["GenerationInput"]!["properties"]!.AsObject();
        var create = document["paths"]!["/v1/predictions"]!["post"]!["responses"]!["422"]!;

        Assert.Contains("16:9", input["aspect_ratio"]!["description"]!.GetValue<string>());
        Assert.Contains("WIDTHxHEIGHT", input["size"]!["description"]!.GetValue<string>());
        Assert.Equal(422, create["content"]!["application/problem+json"]!["example"]!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task Output_quality_is_the_webp_quality()
    {
        async Task<int> Length(int quality)
        {
            var created = await Wire.CreatedAsync(_client, Input(i =>
            {
                i["size"] = "64x64";
                i["output_format"] = "webp";
                i["output_quality"] = quality;
            }));
            var done = await Wire.WaitDoneAsync(_client, created.Id());
            return (await ImageWire.OutputAsync(_client, done)).Length;
        }

        Assert.True(await Length(5) < await Length(100));
    }
}
