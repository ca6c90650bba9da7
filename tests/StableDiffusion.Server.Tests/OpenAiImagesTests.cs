using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Server.Api.OpenAi;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class OpenAiImagesTests
{
    private const string Key = "test-key-0123456789abcdef";
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static JsonObject Generation(string responseFormat = "b64_json", int n = 1, long seed = 5) => new()
    {
        ["model"] = "dall-e-3",
        ["prompt"] = "a lighthouse at dusk",
        ["n"] = n,
        ["size"] = "64x64",
        ["response_format"] = responseFormat,
        ["steps"] = 2,
        ["seed"] = seed,
        // As Wire.Input: Euler, so the same request on the native API is the same job.
        ["scheduler"] = "K_EULER",
    };

    private static async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(HttpClient client, string path, JsonObject body)
    {
        var response = await client.PostAsJsonAsync(path, body);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private static JsonObject Error(JsonObject body) => body["error"]!.AsObject();

    [Fact]
    public async Task Generations_return_b64_json_pngs_with_the_prompt_as_revised_prompt()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var (status, body) = await PostAsync(client, "/v1/images/generations", Generation(n: 2));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.InRange(body["created"]!.GetValue<long>(), before, before + 600);
        var data = body["data"]!.AsArray();
        Assert.Equal(2, data.Count);
        foreach (var image in data)
        {
            Assert.Equal(PngSignature, Convert.FromBase64String(image!["b64_json"]!.GetValue<string>())[..8]);
            Assert.Null(image["url"]);
            Assert.Equal("a lighthouse at dusk", image["revised_prompt"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Generations_with_url_point_at_the_stored_file()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var (status, body) = await PostAsync(client, "/v1/images/generations", Generation("url"));
        var url = body["data"]![0]!["url"]!.GetValue<string>();
        var file = await client.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("http://localhost/v1/files/", url);
        Assert.Null(body["data"]![0]!["b64_json"]);
        Assert.Equal("image/png", file.Content.Headers.ContentType!.MediaType);
        Assert.Equal(PngSignature, (await file.Content.ReadAsByteArrayAsync())[..8]);
    }

    [Fact]
    public async Task Generations_are_the_native_pipeline_same_seed_same_bytes_as_a_prediction()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var (_, body) = await PostAsync(client, "/v1/images/generations", Generation(seed: 42));
        var prediction = await Wire.CreatedAsync(client, Wire.Input(steps: 2, size: 64, seed: 42, prompt: "a lighthouse at dusk"), prefer: "wait");
        var native = await client.GetByteArrayAsync(prediction["output"]![0]!.GetValue<string>());

        Assert.Equal(native, Convert.FromBase64String(body["data"]![0]!["b64_json"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Generation_extras_reach_the_job_and_the_job_is_a_listed_prediction()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var request = Generation();
        request["negative_prompt"] = "fog";
        request["guidance_scale"] = 3.5;
        request["scheduler"] = "K_EULER";
        request["quality"] = "hd"; // an OpenAI field we do not use: ignored

        var (status, _) = await PostAsync(client, "/v1/images/generations", request);
        var listed = JsonNode.Parse(await client.GetStringAsync("/v1/predictions"))!["results"]![0]!;

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("succeeded", listed["status"]!.GetValue<string>());
        var input = listed["input"]!;
        Assert.Equal("fog", input["negative_prompt"]!.GetValue<string>());
        Assert.Equal(3.5, input["guidance_scale"]!.GetValue<double>());
        Assert.Equal(2, input["num_inference_steps"]!.GetValue<int>());
        Assert.Contains("guidance 3.5, scheduler K_EULER", listed["logs"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("size", "64x65", "size", "multiple of 8")]
    [InlineData("size", "large", "size", "WIDTHxHEIGHT")]
    [InlineData("n", "99", "n", "between 1 and")]
    [InlineData("steps", "many", "steps", "integer")]
    [InlineData("response_format", "png", "response_format", "b64_json")]
    [InlineData("scheduler", "Heun", "scheduler", "unknown scheduler")]
    public async Task Invalid_fields_answer_an_openai_error_naming_the_param(string field, string value, string param, string message)
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var request = Generation();
        request[field] = field == "n" ? JsonValue.Create(int.Parse(value)) : JsonValue.Create(value);

        var (status, body) = await PostAsync(client, "/v1/images/generations", request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = Error(body);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Contains(message, error["message"]!.GetValue<string>());
        Assert.True(error.ContainsKey("code"));
    }

    [Fact]
    public async Task Missing_prompt_is_an_openai_error_on_prompt()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var (status, body) = await PostAsync(client, "/v1/images/generations", new JsonObject { ["size"] = "64x64" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("prompt", Error(body)["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_model_is_404_model_not_found_and_served_names_work()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var unknown = Generation();
        unknown["model"] = "stable-diffusion-xl";
        var served = Generation();
        served["model"] = "test/tiny";

        var (unknownStatus, unknownBody) = await PostAsync(client, "/v1/images/generations", unknown);
        var (servedStatus, _) = await PostAsync(client, "/v1/images/generations", served);

        Assert.Equal(HttpStatusCode.NotFound, unknownStatus);
        Assert.Equal("model_not_found", Error(unknownBody)["code"]!.GetValue<string>());
        Assert.Equal("model", Error(unknownBody)["param"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, servedStatus);
    }

    [Fact]
    public async Task Full_queue_is_429_rate_limit_exceeded_with_retry_after()
    {
        await using var factory = new ServerFactory(new() { ["Queue:Capacity"] = "1", ["Queue:RetryAfterSeconds"] = "9" });
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        await Wire.CreatedAsync(client, Wire.Input());

        var response = await client.PostAsJsonAsync("/v1/images/generations", Generation());

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(9), response.Headers.RetryAfter!.Delta);
        var error = Error(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
    }

    [Fact]
    public async Task A_job_past_the_deadline_is_canceled_and_answers_504_timeout()
    {
        await using var factory = new ServerFactory(new() { ["Queue:JobDeadlineSeconds"] = "1" });
        var client = await factory.ReadyClientAsync();
        var slow = Generation();
        slow["size"] = "512x512";
        slow["steps"] = 999;

        var (status, body) = await PostAsync(client, "/v1/images/generations", slow);
        Assert.True(status == HttpStatusCode.GatewayTimeout, body.ToJsonString());
        var job = JsonNode.Parse(await client.GetStringAsync("/v1/predictions"))!["results"]![0]!;
        var done = await Wire.WaitDoneAsync(client, job["id"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("timeout", Error(body)["code"]!.GetValue<string>());
        Assert.Equal("canceled", done.Status());
    }

    [Fact]
    public async Task A_client_that_hangs_up_cancels_its_job()
    {
        // Nobody can collect a synchronous result once its caller is gone (SillyTavern aborts on chat changes).
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var slow = Generation();
        slow["size"] = "512x512";
        slow["steps"] = 999;
        using var hangUp = new CancellationTokenSource();

        var call = client.PostAsJsonAsync("/v1/images/generations", slow, hangUp.Token);
        var running = await WaitForRunningJobAsync(client);
        hangUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var done = await Wire.WaitDoneAsync(client, running);

        Assert.Equal("canceled", done.Status());
    }

    private static async Task<string> WaitForRunningJobAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var jobs = JsonNode.Parse(await client.GetStringAsync("/v1/predictions"))!["results"]!.AsArray();
            if (jobs.Count > 0 && jobs[0]!["status"]!.GetValue<string>() == "processing" && jobs[0]!["logs"]!.GetValue<string>().Contains("| 1/"))
            {
                return jobs[0]!["id"]!.GetValue<string>();
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the job never started");
            }
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Api_keys_when_configured_are_required_with_an_openai_401()
    {
        await using var factory = new ServerFactory(new() { ["Auth:ApiKeys:0"] = Key });
        var client = await factory.ReadyClientAsync();

        var (anonymousStatus, anonymous) = await PostAsync(client, "/v1/images/generations", Generation());
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var (allowedStatus, _) = await PostAsync(client, "/v1/images/generations", Generation());

        Assert.Equal(HttpStatusCode.Unauthorized, anonymousStatus);
        Assert.Equal("invalid_api_key", Error(anonymous)["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, allowedStatus);
    }

    [Fact]
    public async Task Edits_without_a_mask_are_img2img_at_the_input_size()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var response = await client.PostAsync("/v1/images/edits", EditForm(withMask: false, size: null));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        var listed = JsonNode.Parse(await client.GetStringAsync("/v1/predictions"))!["results"]![0]!;

        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        using var image = Image.Load(Convert.FromBase64String(body["data"]![0]!["b64_json"]!.GetValue<string>()));
        Assert.Equal((72, 64), (image.Width, image.Height));
        Assert.Contains("Denoising strength: 0.8", PngText(body));
        Assert.Equal("(image)", listed["input"]!["image"]!.GetValue<string>());
    }

    [Fact]
    public async Task Edits_with_a_mask_are_inpainting()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var response = await client.PostAsync("/v1/images/edits", EditForm(withMask: true));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        var listed = JsonNode.Parse(await client.GetStringAsync("/v1/predictions"))!["results"]![0]!;

        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        Assert.Single(body["data"]!.AsArray());
        Assert.Equal("(mask)", listed["input"]!["mask"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(false, "image", "cannot do image-to-image")]
    [InlineData(true, "mask", "cannot do inpainting")]
    public async Task Edits_on_a_model_without_the_task_answer_400_naming_why(bool withMask, string param, string message)
    {
        await using var factory = new ServerFactory(new() { ["Models:Items:0:Path"] = TextOnlyModel() });
        var client = await factory.ReadyClientAsync();

        var response = await client.PostAsync("/v1/images/edits", EditForm(withMask));
        var error = Error(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Contains(message, error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Edits_without_an_image_name_the_image_param()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        using var form = new MultipartFormDataContent { { new StringContent("a cat"), "prompt" } };

        var response = await client.PostAsync("/v1/images/edits", form);
        var error = Error(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("image", error["param"]!.GetValue<string>());
    }

    [Fact]
    public void Transparent_mask_pixels_become_white_repaint_pixels()
    {
        // OpenAI: "fully transparent areas (alpha zero) indicate where the image should be edited".
        using var mask = new Image<Rgba32>(2, 1);
        mask[0, 0] = new Rgba32(10, 20, 30, 0);
        mask[1, 0] = new Rgba32(10, 20, 30, 255);
        using var png = new MemoryStream();
        mask.SaveAsPng(png);

        using var converted = Image.Load<Rgb24>(OpenAiMask.ToRepaintMask(png.ToArray(), 4096));

        Assert.Equal(new Rgb24(255, 255, 255), converted[0, 0]);
        Assert.Equal(new Rgb24(0, 0, 0), converted[1, 0]);
    }

    [Fact]
    public void Opaque_masks_are_kept_as_white_means_repaint()
    {
        using var mask = new Image<Rgb24>(2, 1);
        using var png = new MemoryStream();
        mask.SaveAsPng(png);

        Assert.Equal(png.ToArray(), OpenAiMask.ToRepaintMask(png.ToArray(), 4096));
    }

    private static string PngText(JsonObject body)
        => StableDiffusion.Core.Imaging.PngWriter.ReadParameters(Convert.FromBase64String(body["data"]![0]!["b64_json"]!.GetValue<string>()))!;

    /// <summary>The tiny model without its vae_encoder: a model that offers text-to-image only.</summary>
    internal static string TextOnlyModel()
    {
        var folder = TinyModel.TempFolder("tiny-text-only");
        foreach (var file in Directory.EnumerateFiles(TinyModel.Path, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(folder, Path.GetRelativePath(TinyModel.Path, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        Directory.Delete(Path.Combine(folder, "vae_encoder"), recursive: true);
        return folder;
    }

    internal static byte[] TestPng(int width = 64, int height = 64, bool transparentHalf = false)
    {
        using var image = new Image<Rgba32>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = transparentHalf
                    ? new Rgba32(0, 0, 0, (byte)(x < width / 2 ? 0 : 255))
                    : new Rgba32((byte)(x * 4), (byte)(y * 4), 128, 255);
            }
        }
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static MultipartFormDataContent EditForm(bool withMask, string? size = "64x64")
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("a red door"), "prompt" },
            { new StringContent("1"), "n" },
            { new StringContent("b64_json"), "response_format" },
            { new StringContent("4"), "steps" },
            { new StringContent("3"), "seed" },
        };
        if (size is not null)
        {
            form.Add(new StringContent(size), "size");
        }
        // 75x66: without a size the edit keeps it, rounded down to multiples of 8 (72x64).
        var image = new ByteArrayContent(size is null ? TestPng(75, 66) : TestPng());
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(image, "image", "image.png");
        if (withMask)
        {
            var mask = new ByteArrayContent(TestPng(transparentHalf: true));
            mask.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(mask, "mask", "mask.png");
        }
        return form;
    }
}
