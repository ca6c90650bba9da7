using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>Issue 11: every A1111 sampler × schedule type pair, the hires fix, the extras and the start-up lists.</summary>
public sealed class Automatic1111CompatibilityTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string path, string json)
    {
        var response = await _client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!.AsObject());
    }

    private static JsonObject Info(JsonObject response) => JsonNode.Parse(response["info"]!.GetValue<string>())!.AsObject();

    private static byte[] Image0(JsonObject response) => Convert.FromBase64String(response["images"]![0]!.GetValue<string>());

    private static (int Width, int Height, Rgb24[] Pixels) Decode(byte[] png)
    {
        using var image = Image.Load<Rgb24>(png);
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return (image.Width, image.Height, pixels);
    }

    private async Task<string[]> NamesAsync(string path)
        => JsonNode.Parse(await _client.GetStringAsync(path))!.AsArray().Select(n => n!["name"]!.GetValue<string>()).ToArray();

    // A1111 1.10 samplers we have no scheduler for, with the one they run (README: AUTOMATIC1111 section).
    public static TheoryData<string, string> Substituted => new()
    {
        { "DPM++ SDE", "DPM++ 2M SDE" }, { "DPM++ 2M SDE Heun", "DPM++ 2M SDE" }, { "DPM++ 3M SDE", "DPM++ 2M SDE" },
        { "DPM++ 2S a", "DPM++ 2S" }, { "DPM fast", "DPM++ 2M" }, { "DPM adaptive", "DPM++ 2M" }, { "Restart", "DPM++ 2M" },
        { "DDIM CFG++", "DDIM" }, { "no such sampler", "DPM++ 2M" },
    };

    [Fact]
    public async Task Every_sampler_and_schedule_type_pair_answers_an_image()
    {
        var samplers = (await NamesAsync("/sdapi/v1/samplers")).Concat(Substituted.Select(row => (string)row[0])).ToArray();
        var schedules = JsonNode.Parse(await _client.GetStringAsync("/sdapi/v1/schedulers"))!.AsArray()
            .Select(s => (Name: s!["name"]!.GetValue<string>(), Label: s["label"]!.GetValue<string>())).ToArray();
        var timestepSamplers = new[] { "PLMS", "DDIM", "LCM", "DDIM CFG++" };
        var failures = new List<string>();

        foreach (var sampler in samplers)
        {
            foreach (var (name, label) in schedules)
            {
                var (status, body) = await PostAsync("/sdapi/v1/txt2img",
                    $$"""{"prompt": "x", "steps": 2, "width": 64, "height": 64, "seed": 5, "sampler_name": "{{sampler}}", "scheduler": "{{name}}"}""");
                if (status != HttpStatusCode.OK || Image0(body).Length < 100)
                {
                    failures.Add($"{sampler} × {name}: {(int)status} {body.ToJsonString()}");
                    continue;
                }
                var extra = Info(body)["extra_generation_params"]!.AsObject();
                var applies = name != "automatic" && !timestepSamplers.Contains(sampler);
                var expected = applies ? label : sampler.EndsWith(" Karras") && !timestepSamplers.Contains(sampler) ? "Karras" : null;
                if (extra["Schedule type"]?.GetValue<string>() != expected)
                {
                    failures.Add($"{sampler} × {name}: Schedule type {extra["Schedule type"]}, expected {expected ?? "none"}");
                }
            }
        }

        Assert.Empty(failures);
        Assert.Equal(12, schedules.Length);
    }

    [Fact]
    public async Task Sillytavern_default_ddim_with_normal_runs_and_says_the_schedule_was_ignored()
    {
        // The issue: SillyTavern's defaults (DDIM, scheduler "normal") were refused with "unknown schedule type 'normal'".
        var (status, body) = await PostAsync("/sdapi/v1/txt2img",
            """{"prompt": "x", "steps": 2, "width": 64, "height": 64, "sampler_name": "DDIM", "scheduler": "normal"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var info = Info(body);
        Assert.Equal("DDIM", info["sampler_name"]!.GetValue<string>());
        Assert.Contains("does not apply to DDIM", info["warnings"]![0]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(Substituted))]
    public async Task A_sampler_we_lack_runs_its_documented_substitute_with_a_warning(string sampler, string runs)
    {
        var (status, body) = await PostAsync("/sdapi/v1/txt2img",
            $$"""{"prompt": "x", "steps": 2, "width": 64, "height": 64, "sampler_name": "{{sampler}}"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var info = Info(body);
        Assert.Equal(runs, info["sampler_name"]!.GetValue<string>());
        Assert.Contains($"'{sampler}'", info["warnings"]![0]!.GetValue<string>());
        Assert.Contains($"Sampler: {runs},", info["infotexts"]![0]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Euler a Karras", null, "Euler a", "Karras")]
    [InlineData("DPM2 SGM Uniform", null, "DPM2", "SGM Uniform")]
    [InlineData("DPM++ 2M Karras", null, "DPM++ 2M", "Karras")]
    [InlineData("Euler", "Align Your Steps", "Euler", "Align Your Steps")]
    [InlineData("Heun", "kl_optimal", "Heun", "KL Optimal")]
    public async Task Legacy_names_split_into_sampler_and_schedule_type(string sampler, string? schedule, string name, string label)
    {
        var scheduler = schedule is null ? "" : $", \"scheduler\": \"{schedule}\"";
        var (status, body) = await PostAsync("/sdapi/v1/txt2img",
            $$"""{"prompt": "x", "steps": 2, "width": 64, "height": 64, "sampler_name": "{{sampler}}"{{scheduler}}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var info = Info(body);
        Assert.Equal(name, info["sampler_name"]!.GetValue<string>());
        Assert.Equal(label, info["extra_generation_params"]!["Schedule type"]!.GetValue<string>());
        Assert.Equal(label, info["scheduler"]!.GetValue<string>());
        Assert.Contains($"Sampler: {name}, ", PngWriter.ReadParameters(Image0(body)));
        Assert.Contains($"Schedule type: {label}", PngWriter.ReadParameters(Image0(body)));
        Assert.Empty(info["warnings"]!.AsArray());
    }

    [Fact]
    public async Task Subseeds_are_reported_as_a1111_reports_them()
    {
        var (_, given) = await PostAsync("/sdapi/v1/txt2img",
            """{"prompt": "x", "steps": 1, "width": 64, "height": 64, "batch_size": 2, "subseed": 77, "subseed_strength": 0.5}""");
        var (_, drawn) = await PostAsync("/sdapi/v1/txt2img", """{"prompt": "x", "steps": 1, "width": 64, "height": 64, "batch_size": 2}""");

        Assert.Equal([77L, 78L], Info(given)["all_subseeds"]!.AsArray().Select(s => s!.GetValue<long>()));
        Assert.Contains("subseed_strength", Info(given)["warnings"]![0]!.GetValue<string>());
        var subseed = Info(drawn)["subseed"]!.GetValue<long>();
        Assert.InRange(subseed, 0, 4_294_967_293);
        Assert.Equal([subseed, subseed + 1], Info(drawn)["all_subseeds"]!.AsArray().Select(s => s!.GetValue<long>()));
    }

    [Fact]
    public async Task A_schedule_type_changes_the_image_of_a_sigma_sampler()
    {
        const string Body = """{"prompt": "x", "steps": 3, "width": 64, "height": 64, "seed": 9, "sampler_name": "Euler", "scheduler": "%"}""";
        var (_, automatic) = await PostAsync("/sdapi/v1/txt2img", Body.Replace("%", "automatic"));
        var (_, sgm) = await PostAsync("/sdapi/v1/txt2img", Body.Replace("%", "sgm_uniform"));
        var (_, unknown) = await PostAsync("/sdapi/v1/txt2img", Body.Replace("%", "no such schedule"));

        Assert.NotEqual(Decode(Image0(automatic)).Pixels, Decode(Image0(sgm)).Pixels);
        // An unknown schedule type is Automatic (A1111: schedulers_map.get falls back), named in the warnings.
        Assert.Equal(Decode(Image0(automatic)).Pixels, Decode(Image0(unknown)).Pixels);
        Assert.Contains("unknown schedule type", Info(unknown)["warnings"]![0]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Latent")]
    [InlineData("Latent (bicubic antialiased)")]
    [InlineData("None")]
    [InlineData("Nearest")]
    public async Task Hires_fix_answers_the_upscaled_size_and_writes_a1111s_infotext(string upscaler)
    {
        var (status, body) = await PostAsync("/sdapi/v1/txt2img", $$"""
            {"prompt": "x", "steps": 2, "width": 64, "height": 64, "seed": 3, "enable_hr": true, "hr_scale": 2,
             "hr_upscaler": "{{upscaler}}", "hr_second_pass_steps": 3, "denoising_strength": 0.6}
            """);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var image = Image0(body);
        Assert.Equal((128, 128), (Decode(image).Width, Decode(image).Height));
        var info = Info(body);
        Assert.Equal(64, info["width"]!.GetValue<int>());
        Assert.Equal(0.6, info["denoising_strength"]!.GetValue<double>());
        Assert.Equal(upscaler, info["extra_generation_params"]!["Hires upscaler"]!.GetValue<string>());
        Assert.Equal(2.0, info["extra_generation_params"]!["Hires upscale"]!.GetValue<double>());
        var text = PngWriter.ReadParameters(image)!;
        Assert.Equal(info["infotexts"]![0]!.GetValue<string>(), text);
        Assert.Contains("Size: 64x64, ", text);
        Assert.EndsWith($", Denoising strength: 0.6, Hires upscale: 2, Hires steps: 3, Hires upscaler: {upscaler}", text);
    }

    [Fact]
    public async Task Hires_first_pass_is_the_plain_txt2img_of_the_same_seed()
    {
        // Latent at scale 1 is the identity and strength 0 runs no step: what comes out is the first pass, decoded.
        const string Plain = """{"prompt": "x", "steps": 3, "width": 64, "height": 64, "seed": 11, "sampler_name": "DPM++ 2M", "scheduler": "Karras" """;
        var (_, plain) = await PostAsync("/sdapi/v1/txt2img", Plain + "}");
        var (_, hires) = await PostAsync("/sdapi/v1/txt2img", Plain + """, "enable_hr": true, "hr_scale": 1, "hr_upscaler": "Latent", "denoising_strength": 0}""");
        var (_, denoised) = await PostAsync("/sdapi/v1/txt2img", Plain + """, "enable_hr": true, "hr_scale": 1, "hr_upscaler": "Latent", "denoising_strength": 0.5}""");

        Assert.Equal(Decode(Image0(plain)).Pixels, Decode(Image0(hires)).Pixels);
        Assert.NotEqual(Decode(Image0(plain)).Pixels, Decode(Image0(denoised)).Pixels);
    }

    [Theory]
    [InlineData(96, 0, 96, 96)]
    [InlineData(0, 100, 96, 96)]
    [InlineData(128, 96, 128, 96)]
    public async Task Hires_resize_follows_a1111s_target_rules(int x, int y, int width, int height)
    {
        var (status, body) = await PostAsync("/sdapi/v1/txt2img", $$"""
            {"prompt": "x", "steps": 2, "width": 64, "height": 64, "enable_hr": true, "hr_resize_x": {{x}}, "hr_resize_y": {{y}}, "hr_upscaler": "Lanczos"}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((width, height), (Decode(Image0(body)).Width, Decode(Image0(body)).Height));
        Assert.Equal($"{width}x{height}", Info(body)["extra_generation_params"]!["Hires resize"]!.GetValue<string>());
    }

    [Fact]
    public async Task Extras_upscale_by_factor_and_to_a_cropped_size()
    {
        var source = Convert.ToBase64String(TestImages.NoisePng(40, 30));

        var (byFactor, a) = await PostAsync("/sdapi/v1/extra-single-image", $$"""{"image": "{{source}}", "upscaler_1": "Lanczos", "upscaling_resize": 2}""");
        var (toSize, b) = await PostAsync("/sdapi/v1/extra-single-image", $$"""{"image": "{{source}}", "upscaler_1": "Nearest", "resize_mode": 1, "upscaling_resize_w": 64, "upscaling_resize_h": 64}""");
        var (none, c) = await PostAsync("/sdapi/v1/extra-single-image", $$"""{"image": "data:image/png;base64,{{source}}"}""");
        var (batch, d) = await PostAsync("/sdapi/v1/extra-batch-images", $$"""{"imageList": [{"data": "{{source}}", "name": "a.png"}, {"data": "{{source}}", "name": "b.png"}], "upscaler_1": "Lanczos", "upscaling_resize": 1.5}""");
        var (unknown, e) = await PostAsync("/sdapi/v1/extra-single-image", $$"""{"image": "{{source}}", "upscaler_1": "R-ESRGAN 4x+"}""");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], new[] { byFactor, toSize, none, batch });
        Assert.Equal((80, 60), Size(a["image"]!));
        Assert.Equal((64, 64), Size(b["image"]!));
        Assert.Equal(Decode(TestImages.NoisePng(40, 30)).Pixels, Decode(Convert.FromBase64String(c["image"]!.GetValue<string>())).Pixels);
        Assert.Equal([(60, 45), (60, 45)], d["images"]!.AsArray().Select(i => Size(i!)).ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.True(e["errors"]!.AsObject().ContainsKey("upscaler_1"));
    }

    [Fact]
    public async Task Extras_run_a_served_x4_upscaler_model_and_resize_its_output()
    {
        await using var factory = new ServerFactory(new()
        {
            ["Models:Items:1:Name"] = "tiny-upscale",
            ["Models:Items:1:Owner"] = "test",
            ["Models:Items:1:Path"] = ImageModels.Upscale,
        });
        var client = await factory.ReadyClientAsync();
        var source = Convert.ToBase64String(TestImages.NoisePng(24, 16));
        async Task<JsonObject> UpscaleAsync(double factor)
        {
            var response = await client.PostAsync("/sdapi/v1/extra-single-image", new StringContent(
                $$"""{"image": "{{source}}", "upscaler_1": "SD x4 (tiny-upscale)", "upscaling_resize": {{factor}}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        }

        var upscalers = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/upscalers"))!.AsArray().Select(u => u!["name"]!.GetValue<string>());
        var four = await UpscaleAsync(4);
        var two = await UpscaleAsync(2);

        Assert.Contains("SD x4 (tiny-upscale)", upscalers);
        Assert.Equal((96, 64), Size(four["image"]!));
        Assert.Contains("Model: tiny-upscale", PngWriter.ReadParameters(Convert.FromBase64String(four["image"]!.GetValue<string>())));
        Assert.Equal((48, 32), Size(two["image"]!));
    }

    [Fact]
    public async Task Hires_fix_runs_a_served_x4_upscaler_model_on_the_first_pass()
    {
        await using var factory = new ServerFactory(new()
        {
            ["Models:Items:1:Name"] = "tiny-upscale",
            ["Models:Items:1:Owner"] = "test",
            ["Models:Items:1:Path"] = ImageModels.Upscale,
        });
        var client = await factory.ReadyClientAsync();

        var response = await client.PostAsync("/sdapi/v1/txt2img", new StringContent("""
            {"prompt": "x", "steps": 2, "width": 64, "height": 64, "seed": 5, "enable_hr": true, "hr_scale": 2, "hr_upscaler": "SD x4 (tiny-upscale)", "hr_second_pass_steps": 2, "denoising_strength": 0.5}
            """, Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal((128, 128), (Decode(Image0(body)).Width, Decode(Image0(body)).Height));
        var info = Info(body);
        Assert.Equal("SD x4 (tiny-upscale)", info["extra_generation_params"]!["Hires upscaler"]!.GetValue<string>());
        Assert.DoesNotContain(info["warnings"]?.AsArray().Select(w => w!.GetValue<string>()) ?? [], w => w.Contains("hr_upscaler", StringComparison.Ordinal));
    }

    private static (int, int) Size(JsonNode base64)
    {
        var decoded = Decode(Convert.FromBase64String(base64.GetValue<string>()));
        return (decoded.Width, decoded.Height);
    }

    [Fact]
    public async Task Png_info_reads_back_the_parameters_a_txt2img_png_carries()
    {
        var (_, generated) = await PostAsync("/sdapi/v1/txt2img",
            """{"prompt": "a red fox", "negative_prompt": "blurry", "steps": 2, "width": 64, "height": 64, "seed": 21, "sampler_name": "Euler", "scheduler": "Karras"}""");
        var png = generated["images"]![0]!.GetValue<string>();

        var (status, body) = await PostAsync("/sdapi/v1/png-info", $$"""{"image": "data:image/png;base64,{{png}}"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Info(generated)["infotexts"]![0]!.GetValue<string>(), body["info"]!.GetValue<string>());
        Assert.Equal(body["info"]!.GetValue<string>(), body["items"]!["parameters"]!.GetValue<string>());
        var parameters = body["parameters"]!;
        Assert.Equal("a red fox", parameters["Prompt"]!.GetValue<string>());
        Assert.Equal("blurry", parameters["Negative prompt"]!.GetValue<string>());
        Assert.Equal("2", parameters["Steps"]!.GetValue<string>());
        Assert.Equal("Karras", parameters["Schedule type"]!.GetValue<string>());
        Assert.Equal("21", parameters["Seed"]!.GetValue<string>());
        Assert.Equal(("64", "64"), (parameters["Size-1"]!.GetValue<string>(), parameters["Size-2"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Start_up_lists_answer_what_frontends_read()
    {
        var upscalers = await NamesAsync("/sdapi/v1/upscalers");
        var latent = await NamesAsync("/sdapi/v1/latent-upscale-modes");
        var schedulers = JsonNode.Parse(await _client.GetStringAsync("/sdapi/v1/schedulers"))!.AsArray();

        // SillyTavern splices the latent modes in after entry 0, which must be "None".
        Assert.Equal(["None", "Lanczos", "Nearest"], upscalers);
        Assert.Equal(["Latent", "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)", "Latent (nearest)", "Latent (nearest-exact)"], latent);
        Assert.Equal(["Automatic", "Uniform", "Karras", "Exponential", "Polyexponential", "SGM Uniform", "KL Optimal", "Align Your Steps", "Simple", "Normal", "DDIM", "Beta"],
            schedulers.Select(s => s!["label"]!.GetValue<string>()));
        foreach (var path in new[] { "sd-vae", "sd-modules", "loras", "hypernetworks", "face-restorers", "realesrgan-models", "prompt-styles" })
        {
            Assert.Empty(JsonNode.Parse(await _client.GetStringAsync("/sdapi/v1/" + path))!.AsArray());
        }
        Assert.Equal("null", await (await _client.PostAsync("/sdapi/v1/refresh-checkpoints", null)).Content.ReadAsStringAsync());
    }
}
