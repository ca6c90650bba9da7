using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Images;
using SixLabors.ImageSharp;
using StableDiffusion.Core.Text;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>
/// The GPT image models' contract on the OpenAI surface: b64_json only (url refused as OpenAI refuses it), their
/// fields checked and echoed, usage; dall-e and our own model names keep url as the default.
/// </summary>
public sealed class OpenAiGptImageTests : IAsyncLifetime
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private readonly ServerFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private static JsonObject Request(string? model, string? responseFormat = null) => new()
    {
        ["model"] = model,
        ["prompt"] = "a lighthouse at dusk",
        ["size"] = "64x64",
        ["steps"] = 2,
        ["seed"] = 7,
        ["response_format"] = responseFormat,
    };

    private async Task<(HttpStatusCode Status, JsonObject Body)> GenerateAsync(JsonObject body)
    {
        var response = await _client.PostAsJsonAsync("/v1/images/generations", body);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    [Theory]
    [InlineData("gpt-image-1")]
    [InlineData("gpt-image-1-mini")]
    public async Task Gpt_image_models_answer_b64_json_without_a_response_format(string model)
    {
        var (status, body) = await GenerateAsync(Request(model));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var image = body["data"]![0]!.AsObject();
        Assert.False(image.ContainsKey("url"));
        Assert.Equal(PngSignature, Convert.FromBase64String(image["b64_json"]!.GetValue<string>())[..8]);
        Assert.Equal("64x64", body["size"]!.GetValue<string>());
        Assert.Equal("png", body["output_format"]!.GetValue<string>());
        Assert.Equal("opaque", body["background"]!.GetValue<string>());
    }

    [Fact]
    public async Task Gpt_image_usage_counts_prompt_tokens_and_output_latents()
    {
        var (_, body) = await GenerateAsync(Request("gpt-image-1"));

        var usage = body["usage"]!.AsObject();
        // The model's own CLIP tokenizer counts the prompt; 64x64 pixels are 8x8 latent positions.
        var text = ClipTokenizer.FromDirectory(Path.Combine(TinyModel.Path, "tokenizer")).EncodeTokens("a lighthouse at dusk").Length;
        Assert.InRange(text, 4, 77);
        Assert.Equal(text, usage["input_tokens_details"]!["text_tokens"]!.GetValue<int>());
        Assert.Equal(0, usage["input_tokens_details"]!["image_tokens"]!.GetValue<int>());
        Assert.Equal(text, usage["input_tokens"]!.GetValue<int>());
        Assert.Equal(64, usage["output_tokens"]!.GetValue<int>());
        Assert.Equal(text + 64, usage["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Url_asked_of_a_gpt_image_model_is_refused_as_openai_refuses_it()
    {
        var (status, body) = await GenerateAsync(Request("gpt-image-1", "url"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body["error"]!.AsObject();
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("response_format", error["param"]!.GetValue<string>());
        Assert.Equal("unknown_parameter", error["code"]!.GetValue<string>());
        Assert.Contains("always return b64_json", error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("dall-e-2")]
    [InlineData("dall-e-3")]
    [InlineData("tiny")]
    [InlineData(null)]
    public async Task Dall_e_our_names_and_no_model_keep_url_as_the_default(string? model)
    {
        var (status, body) = await GenerateAsync(Request(model));

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.StartsWith("http://localhost/v1/files/", body["data"]![0]!["url"]!.GetValue<string>());
        Assert.False(body.ContainsKey("usage"));
    }

    [Fact]
    public async Task No_model_with_a_gpt_image_only_field_is_a_gpt_image_request_as_on_openai()
    {
        var request = Request(null);
        request["output_format"] = "webp";

        var (_, body) = await GenerateAsync(request);

        var bytes = Convert.FromBase64String(body["data"]![0]!["b64_json"]!.GetValue<string>());
        Assert.Equal("RIFF"u8.ToArray(), bytes[..4]);
        Assert.Equal("webp", body["output_format"]!.GetValue<string>());
    }

    [Fact]
    public async Task Output_compression_is_the_jpeg_quality()
    {
        async Task<int> JpegLength(int compression)
        {
            var request = Request("gpt-image-1");
            request["output_format"] = "jpeg";
            request["output_compression"] = compression;
            var (_, body) = await GenerateAsync(request);
            Assert.Equal("jpeg", body["output_format"]!.GetValue<string>());
            return Convert.FromBase64String(body["data"]![0]!["b64_json"]!.GetValue<string>()).Length;
        }

        Assert.True(await JpegLength(5) < await JpegLength(100));
    }

    [Theory]
    [InlineData("quality", "ultra", "must be one of standard, hd, low, medium, high, auto")]
    [InlineData("background", "green", "must be one of transparent, opaque, auto")]
    [InlineData("moderation", "none", "must be one of low, auto")]
    [InlineData("output_compression", 101, "between 0 and 100")]
    [InlineData("partial_images", 4, "between 0 and 3")]
    public async Task Gpt_image_fields_outside_openai_values_name_the_param(string field, object value, string message)
    {
        var request = Request("gpt-image-1");
        request[field] = value is int i ? JsonValue.Create(i) : JsonValue.Create((string)value);

        var (status, body) = await GenerateAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, body["error"]!["param"]!.GetValue<string>());
        Assert.Contains(message, body["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Quality_is_echoed_for_gpt_image_models()
    {
        var request = Request("gpt-image-1");
        request["quality"] = "low";

        var (_, body) = await GenerateAsync(request);

        Assert.Equal("low", body["quality"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_true_answers_image_generation_completed_events()
    {
        var request = Request("gpt-image-1");
        request["stream"] = true;
        request["partial_images"] = 2;

        var response = await _client.PostAsJsonAsync("/v1/images/generations", request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var lines = text.Split('\n');
        Assert.Equal("event: image_generation.completed", lines[0]);
        var data = JsonNode.Parse(lines[1]["data: ".Length..])!.AsObject();
        Assert.Equal("image_generation.completed", data["type"]!.GetValue<string>());
        Assert.Equal(PngSignature, Convert.FromBase64String(data["b64_json"]!.GetValue<string>())[..8]);
        Assert.Equal("64x64", data["size"]!.GetValue<string>());
        Assert.Equal(64, data["usage"]!["output_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Edits_without_a_model_answer_b64_json_as_openai_edits_default_to_a_gpt_image_model()
    {
        var image = new ByteArrayContent(OpenAiImagesTests.TestPng());
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var form = new MultipartFormDataContent
        {
            { new StringContent("a red door"), "prompt" },
            { new StringContent("2"), "steps" },
            { image, "image", "image.png" },
        };

        var response = await _client.PostAsync("/v1/images/edits", form);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(PngSignature, Convert.FromBase64String(body["data"]![0]!["b64_json"]!.GetValue<string>())[..8]);
        // 64x64 input image = 8x8 latent positions in, and the same out.
        Assert.Equal(64, body["usage"]!["input_tokens_details"]!["image_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_official_dotnet_openai_image_client_gets_image_bytes_from_gpt_image_1()
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(_client.BaseAddress!, "/v1"),
            Transport = new HttpClientPipelineTransport(_client),
        };
        var images = new ImageClient("gpt-image-1", new ApiKeyCredential("unused"), options);

        ClientResult<GeneratedImage> result = await images.GenerateImageAsync("a lighthouse at dusk",
            new ImageGenerationOptions { Size = new GeneratedImageSize(64, 64) });

        Assert.NotNull(result.Value.ImageBytes);
        var bytes = result.Value.ImageBytes.ToArray();
        Assert.Equal(PngSignature, bytes[..8]);
        using var decoded = Image.Load(bytes);
        Assert.Equal((64, 64), (decoded.Width, decoded.Height));
        Assert.Null(result.Value.ImageUri);
    }
}
