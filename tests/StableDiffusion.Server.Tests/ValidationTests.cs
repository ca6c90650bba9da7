using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class ValidationTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new(new()
    {
        ["Limits:MaxBodyBytes"] = "4096",
        // The body limit is raised to fit one image of MaxImageBytes as base64; keep both small here.
        ["Limits:MaxImageBytes"] = "1024",
        ["Limits:MaxSteps"] = "50",
        ["Limits:MaxOutputs"] = "2",
        ["Limits:MaxPromptLength"] = "100",
    });
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private async Task<JsonObject> ErrorsFor(JsonObject input)
    {
        var response = await Wire.CreateAsync(_client, input);
        // Input validation answers 422, as Replicate's API does.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        return (await Wire.ProblemAsync(response))["errors"]!.AsObject();
    }

    [Theory]
    [InlineData("width", 100, "multiple of 8")]
    [InlineData("height", 2048, "between 64 and 1024")]
    [InlineData("width", 32, "between 64")]
    [InlineData("num_inference_steps", 51, "between 1 and 50")]
    [InlineData("num_inference_steps", 0, "between 1 and 50")]
    [InlineData("num_outputs", 3, "between 1 and 2")]
    [InlineData("seed", -1, "between 0")]
    [InlineData("guidance_scale", 99, "between 0 and 50")]
    [InlineData("eta", 1.5, "between 0 and 1")]
    [InlineData("prompt_strength", 1.5, "between 0 and 1")]
    public async Task Out_of_range_numbers_are_422_naming_the_field(string field, double value, string message)
    {
        var input = Wire.Input();
        input[field] = value % 1 == 0 ? JsonValue.Create((long)value) : JsonValue.Create(value);

        var errors = await ErrorsFor(input);

        Assert.Contains(message, errors[field]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Pixel_limit_applies_to_width_times_height()
    {
        var input = Wire.Input();
        input["width"] = 1024;
        input["height"] = 1024;
        var factory = new ServerFactory(new() { ["Limits:MaxPixels"] = "262144" });
        await using var _ = factory;
        var client = await factory.ReadyClientAsync();

        var response = await Wire.CreateAsync(client, input);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("262144", (await Wire.ProblemAsync(response))["errors"]!["width"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Wrong_type_is_422_naming_the_field()
    {
        var input = Wire.Input();
        input["width"] = "wide";

        var errors = await ErrorsFor(input);

        Assert.Equal("must be an integer", errors["width"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Missing_prompt_is_422()
    {
        var input = Wire.Input();
        input.Remove("prompt");

        var errors = await ErrorsFor(input);

        Assert.Equal("is required", errors["prompt"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Too_long_prompt_is_422()
    {
        var errors = await ErrorsFor(Wire.Input(prompt: new string('a', 101)));

        Assert.Contains("at most 100", errors["prompt"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_scheduler_is_422_listing_the_names()
    {
        var input = Wire.Input();
        input["scheduler"] = "WARP_DRIVE";

        var errors = await ErrorsFor(input);

        Assert.Contains("K_EULER_ANCESTRAL", errors["scheduler"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_output_format_is_422()
    {
        var input = Wire.Input();
        input["output_format"] = "gif";

        var errors = await ErrorsFor(input);

        Assert.Contains("png, webp, jpg", errors["output_format"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Unreadable_image_input_is_a_clear_422_on_image()
    {
        var input = Wire.Input();
        input["image"] = "data:image/png;base64,iVBORw0KGgo=";

        var errors = await ErrorsFor(input);

        Assert.Contains("PNG is truncated", errors["image"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Mask_without_image_is_422()
    {
        var input = Wire.Input();
        input["mask"] = "data:image/png;base64,iVBORw0KGgo=";

        var errors = await ErrorsFor(input);

        Assert.NotNull(errors["mask"]);
    }

    [Fact]
    public async Task Several_errors_are_reported_together()
    {
        var input = Wire.Input();
        input["width"] = 65;
        input["num_outputs"] = 9;

        var errors = await ErrorsFor(input);

        Assert.NotNull(errors["width"]);
        Assert.NotNull(errors["num_outputs"]);
    }

    [Fact]
    public async Task Invalid_json_is_400_on_body()
    {
        var response = await _client.PostAsync("/v1/predictions", new StringContent("{not json", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await Wire.ProblemAsync(response))["errors"]!["body"]);
    }

    [Fact]
    public async Task Missing_input_is_422_on_input()
    {
        var response = await _client.PostAsync("/v1/predictions", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.NotNull((await Wire.ProblemAsync(response))["errors"]!["input"]);
    }

    [Fact]
    public async Task Oversized_body_is_413()
    {
        var response = await Wire.CreateAsync(_client, Wire.Input(prompt: new string('a', 100_000)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_version_is_404()
    {
        var response = await Wire.CreateAsync(_client, Wire.Input(), new JsonObject { ["version"] = "someone/else" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Bad_webhook_filter_is_422()
    {
        var response = await Wire.CreateAsync(_client, Wire.Input(), new JsonObject
        {
            ["webhook"] = "https://example.com/hook",
            ["webhook_events_filter"] = new JsonArray("start", "everything"),
        });

        Assert.NotNull((await Wire.ProblemAsync(response))["errors"]!["webhook_events_filter"]);
    }

    [Fact]
    public async Task Rejected_requests_create_no_prediction()
    {
        var input = Wire.Input();
        input["width"] = 100;
        await Wire.CreateAsync(_client, input);

        var page = JsonNode.Parse(await _client.GetStringAsync("/v1/predictions"))!;

        Assert.Empty(page["results"]!.AsArray());
    }
}
