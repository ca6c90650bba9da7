using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>The request's noise source (<c>rng</c>, A1111's <c>randn_source</c>), DDIM's <c>eta</c> and the new sampler
/// names on every surface (issue 12).</summary>
public sealed class NoiseSourceApiTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private async Task<byte[]> NativeImageAsync(JsonObject input)
    {
        var created = await Wire.CreatedAsync(_client, input);
        var done = await Wire.WaitDoneAsync(_client, created.Id());
        Assert.Equal("succeeded", done.Status());
        return await _client.GetByteArrayAsync(done["output"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Native_rng_picks_the_noise_source_and_is_written_into_the_png()
    {
        var cpu = Wire.Input(seed: 11);
        var nv = Wire.Input(seed: 11);
        nv["rng"] = "nv";

        var cpuImage = await NativeImageAsync(cpu);
        var nvImage = await NativeImageAsync(nv);
        var again = await NativeImageAsync(nv);

        Assert.NotEqual(cpuImage, nvImage);
        Assert.Equal(nvImage, again);
        Assert.Contains("RNG: CPU", PngWriter.ReadParameters(cpuImage));
        Assert.Contains("RNG: NV", PngWriter.ReadParameters(nvImage));
    }

    [Fact]
    public async Task Native_eta_makes_ddim_stochastic_with_the_seed()
    {
        var plain = Wire.Input(seed: 5);
        plain["scheduler"] = "DDIM";
        var withEta = Wire.Input(seed: 5);
        withEta["scheduler"] = "DDIM";
        withEta["eta"] = 1.0;

        var a = await NativeImageAsync(plain);
        var b = await NativeImageAsync(withEta);

        Assert.NotEqual(a, b);
        Assert.Contains("Eta DDIM: 1", PngWriter.ReadParameters(b));
    }

    [Theory]
    [InlineData("HeunDiscrete")]
    [InlineData("K_DPM_2_ANCESTRAL")]
    [InlineData("DPMSolverMultistepSDE")]
    [InlineData("UniPCMultistep")]
    [InlineData("DEISMultistep")]
    [InlineData("DPMSolverSinglestep")]
    [InlineData("LCM")]
    [InlineData("KDPM2DiscreteScheduler")]
    public async Task New_samplers_run_by_name(string scheduler)
    {
        var input = Wire.Input();
        input["scheduler"] = scheduler;

        await NativeImageAsync(input);
    }

    [Fact]
    public async Task Unknown_rng_is_422_listing_the_sources()
    {
        var input = Wire.Input();
        input["rng"] = "mersenne";

        var response = await Wire.CreateAsync(_client, input);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await Wire.ProblemAsync(response))["errors"]!.AsObject();
        Assert.Contains("numpy", errors["rng"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Numpy_rng_refuses_a_batch_past_its_seed_range()
    {
        var input = Wire.Input(seed: uint.MaxValue);
        input["rng"] = "numpy";
        input["num_outputs"] = 2;

        var response = await Wire.CreateAsync(_client, input);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True((await Wire.ProblemAsync(response))["errors"]!.AsObject().ContainsKey("seed"));
    }

    [Fact]
    public async Task Model_schema_lists_rng_eta_and_the_new_schedulers()
    {
        var model = JsonNode.Parse(await _client.GetStringAsync("/v1/models/test/tiny"))!;
        var properties = model["latest_version"]!["openapi_schema"]!["components"]!["schemas"]!["Input"]!["properties"]!;

        Assert.Equal(["cpu", "nv", "numpy", "xoshiro", "cpu-scalar"], properties["rng"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("cpu", properties["rng"]!["default"]!.GetValue<string>());
        Assert.Equal(1, properties["eta"]!["maximum"]!.GetValue<int>());
        var schedulers = properties["scheduler"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray();
        Assert.Contains("UniPCMultistep", schedulers);
        Assert.Contains("K_DPM_2_ANCESTRAL", schedulers);
        Assert.Contains("LCM", schedulers);
    }

    private async Task<(HttpStatusCode Status, JsonObject Body)> A1111Async(string json)
    {
        var response = await _client.PostAsync("/sdapi/v1/txt2img", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    [Fact]
    public async Task A1111_randn_source_gpu_is_nv_and_cpu_is_torch()
    {
        const string common = "\"prompt\": \"x\", \"steps\": 2, \"width\": 64, \"height\": 64, \"seed\": 3";

        var (s1, gpu) = await A1111Async($$"""{ {{common}} }""");
        var (s2, nv) = await A1111Async($$"""{ {{common}}, "override_settings": {"randn_source": "NV"} }""");
        var (s3, cpu) = await A1111Async($$"""{ {{common}}, "override_settings": {"randn_source": "CPU"} }""");

        Assert.Equal(HttpStatusCode.OK, s1);
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal(HttpStatusCode.OK, s3);
        var image = (JsonObject body) => body["images"]![0]!.GetValue<string>();
        Assert.Equal(image(gpu), image(nv));
        Assert.NotEqual(image(gpu), image(cpu));
        var info = JsonNode.Parse(cpu["info"]!.GetValue<string>())!;
        Assert.Contains("RNG: CPU", info["infotexts"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A1111_options_randn_source_is_kept_and_checked()
    {
        var set = await _client.PostAsync("/sdapi/v1/options", new StringContent("""{"randn_source": "CPU"}""", Encoding.UTF8, "application/json"));
        var bad = await _client.PostAsync("/sdapi/v1/options", new StringContent("""{"randn_source": "TPU"}""", Encoding.UTF8, "application/json"));
        var options = JsonNode.Parse(await _client.GetStringAsync("/sdapi/v1/options"))!;

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("CPU", options["randn_source"]!.GetValue<string>());
    }

    [Fact]
    public async Task A1111_new_sampler_names_are_accepted()
    {
        var (status, body) = await A1111Async("""{"prompt": "x", "steps": 2, "width": 64, "height": 64, "sampler_name": "DPM2 a"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("DPM2 a", JsonNode.Parse(body["info"]!.GetValue<string>())!["sampler_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenAi_extras_take_rng()
    {
        var response = await _client.PostAsync("/v1/images/generations", new StringContent(
            """{"prompt": "x", "size": "64x64", "response_format": "b64_json", "seed": 4, "steps": 2, "rng": "nope"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("rng", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Native_sigma_schedule_applies_karras_sigmas_where_diffusers_has_them()
    {
        var karras = Wire.Input(seed: 8);
        karras["scheduler"] = "K_DPM_2";
        karras["sigma_schedule"] = "karras";
        var plain = Wire.Input(seed: 8);
        plain["scheduler"] = "K_DPM_2";
        var refused = Wire.Input();
        refused["scheduler"] = "DDIM";
        refused["sigma_schedule"] = "karras";

        var a = await NativeImageAsync(karras);
        var b = await NativeImageAsync(plain);
        var response = await Wire.CreateAsync(_client, refused);

        Assert.NotEqual(a, b);
        Assert.Contains("Schedule type: Karras", PngWriter.ReadParameters(a));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True((await Wire.ProblemAsync(response))["errors"]!.AsObject().ContainsKey("sigma_schedule"));
    }

    [Theory]
    [InlineData("""{"prompt": "x", "steps": 2, "width": 64, "height": 64, "sampler_name": "DPM2", "scheduler": "Karras"}""", "DPM2")]
    [InlineData("""{"prompt": "x", "steps": 2, "width": 64, "height": 64, "sampler_name": "LMS Karras"}""", "LMS")]
    [InlineData("""{"prompt": "x", "steps": 2, "width": 64, "height": 64, "sampler_name": "UniPC", "scheduler": "Exponential"}""", "UniPC")]
    public async Task A1111_schedule_types_apply_to_the_samplers_that_take_them(string json, string sampler)
    {
        var (status, body) = await A1111Async(json);

        Assert.Equal(HttpStatusCode.OK, status);
        var info = JsonNode.Parse(body["info"]!.GetValue<string>())!;
        Assert.Equal(sampler, info["sampler_name"]!.GetValue<string>());
        Assert.Contains("Schedule type: ", info["infotexts"]![0]!.GetValue<string>());
    }
}
