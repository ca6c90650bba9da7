using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class Automatic1111Tests
{
    private const string Key = "test-key-0123456789abcdef";
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(HttpClient client, string path, string json)
    {
        var response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!.AsObject());
    }

    private static JsonObject Info(JsonObject response) => JsonNode.Parse(response["info"]!.GetValue<string>())!.AsObject();

    [Fact]
    public async Task Wiki_minimal_payload_uses_a1111_defaults()
    {
        // The A1111 wiki's API example: payload = {"prompt": "maltese puppy", "steps": 5}.
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var (status, body) = await PostAsync(client, "/sdapi/v1/txt2img", """{"prompt": "maltese puppy", "steps": 5}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var image = Convert.FromBase64String(body["images"]![0]!.GetValue<string>());
        Assert.Equal(PngSignature, image[..8]);
        var info = Info(body);
        Assert.Equal("maltese puppy", info["prompt"]!.GetValue<string>());
        Assert.Equal(512, info["width"]!.GetValue<int>());
        Assert.Equal(512, info["height"]!.GetValue<int>());
        Assert.Equal("Euler", info["sampler_name"]!.GetValue<string>());
        Assert.Equal(7.0, info["cfg_scale"]!.GetValue<double>());
        Assert.Equal(5, info["steps"]!.GetValue<int>());
        var seed = info["seed"]!.GetValue<long>();
        Assert.InRange(seed, 0, uint.MaxValue);
        Assert.Equal(seed, info["all_seeds"]![0]!.GetValue<long>());
        Assert.Equal("tiny", info["sd_model_name"]!.GetValue<string>());
        // infotexts are exactly the parameters text the PNG carries.
        Assert.Equal(PngWriter.ReadParameters(image), info["infotexts"]![0]!.GetValue<string>());
        Assert.Equal(-1, body["parameters"]!["seed"]!.GetValue<long>());
    }

    [Fact]
    public async Task Open_webui_payload_and_model_switch_work()
    {
        // Open WebUI backend/open_webui/routers/images.py: set_image_model GETs /options and POSTs them back with
        // sd_model_checkpoint changed; image_generations posts {prompt, batch_size, width, height, steps,
        // negative_prompt} merged with the admin's AUTOMATIC1111_PARAMS (here cfg_scale, sampler_name, scheduler).
        await using var factory = new ServerFactory(new()
        {
            ["Models:Items:1:Name"] = "tiny-two",
            ["Models:Items:1:Owner"] = "test",
            ["Models:Items:1:Path"] = TinyModel.Path,
        });
        var client = await factory.ReadyClientAsync();
        var models = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/sd-models"))!.AsArray();
        var second = models.Single(m => m!["model_name"]!.GetValue<string>() == "tiny-two")!["title"]!.GetValue<string>();
        var options = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/options"))!.AsObject();
        options["sd_model_checkpoint"] = second;

        var set = await client.PostAsync("/sdapi/v1/options", new StringContent(options.ToJsonString(), Encoding.UTF8, "application/json"));
        var (status, body) = await PostAsync(client, "/sdapi/v1/txt2img", """
            {"prompt": "a watercolor fox", "batch_size": 1, "width": 512, "height": 512, "steps": 3,
             "negative_prompt": "blurry", "cfg_scale": 7, "sampler_name": "DPM++ 2M", "scheduler": "Karras"}
            """);
        var after = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/options"))!;

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal("null", await set.Content.ReadAsStringAsync());
        Assert.Equal(second, after["sd_model_checkpoint"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(body["images"]!.AsArray());
        var info = Info(body);
        Assert.Equal("tiny-two", info["sd_model_name"]!.GetValue<string>());
        // A1111 1.9+: the sampler alone, the schedule type beside it.
        Assert.Equal("DPM++ 2M", info["sampler_name"]!.GetValue<string>());
        Assert.Equal("Karras", info["extra_generation_params"]!["Schedule type"]!.GetValue<string>());
        Assert.Equal("blurry", info["negative_prompt"]!.GetValue<string>());
        Assert.Contains("Negative prompt: blurry", info["infotexts"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Sillytavern_payload_is_accepted_and_its_own_fields_are_not_echoed()
    {
        // SillyTavern src/endpoints/stable-diffusion.js forwards its whole request body to /sdapi/v1/txt2img,
        // including its own `url` and `auth`; the fields are those of
        // public/scripts/extensions/stable-diffusion/index.js generateAutoImage.
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var (status, body) = await PostAsync(client, "/sdapi/v1/txt2img", """
            {"url": "http://127.0.0.1:7860", "auth": "user:secret",
             "prompt": "portrait of a knight", "negative_prompt": "lowres, bad anatomy",
             "sampler_name": "Euler a", "scheduler": "automatic", "steps": "3", "cfg_scale": 7, "width": 512, "height": 512,
             "restore_faces": false, "enable_hr": false, "hr_upscaler": "Latent", "hr_scale": 2, "hr_additional_modules": [],
             "denoising_strength": 0.7, "hr_second_pass_steps": 0, "seed": 1234, "clip_skip": 1,
             "override_settings": {"CLIP_stop_at_last_layers": 1, "sd_vae": "Automatic"},
             "override_settings_restore_afterwards": true,
             "save_images": true, "send_images": true, "do_not_save_grid": false, "do_not_save_samples": false}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        var info = Info(body);
        Assert.Equal(1234, info["seed"]!.GetValue<long>());
        Assert.Equal("Euler a", info["sampler_name"]!.GetValue<string>());
        Assert.Equal(3, info["steps"]!.GetValue<int>());
        var parameters = body["parameters"]!.AsObject();
        Assert.False(parameters.ContainsKey("url"));
        Assert.False(parameters.ContainsKey("auth"));
        Assert.Equal(1234, parameters["seed"]!.GetValue<long>());
        Assert.Equal("Latent", parameters["hr_upscaler"]!.GetValue<string>());
    }

    [Fact]
    public async Task N_iter_batches_run_in_turn_with_seeds_continuing()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var (status, body) = await PostAsync(client, "/sdapi/v1/txt2img", """
            {"prompt": "a red fox", "batch_size": 2, "n_iter": 2, "seed": 100, "steps": 2, "width": 64, "height": 64, "sampler_name": "Euler"}
            """);
        var second = await Wire.CreatedAsync(client, new JsonObject
        {
            ["prompt"] = "a red fox", ["width"] = 64, ["height"] = 64, ["num_inference_steps"] = 2, ["seed"] = 102,
            ["num_outputs"] = 2, ["scheduler"] = "K_EULER", ["guidance_scale"] = 7.0,
            // A1111's default randn_source is GPU, which draws the NV source.
            ["rng"] = "nv",
        }, prefer: "wait");

        Assert.Equal(HttpStatusCode.OK, status);
        var info = Info(body);
        Assert.Equal([100L, 101L, 102L, 103L], info["all_seeds"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray());
        Assert.Equal(4, body["images"]!.AsArray().Count);
        Assert.Contains("Seed: 103", info["infotexts"]![3]!.GetValue<string>());
        // The second batch is the native prediction of seed 102 with two outputs, byte for byte.
        Assert.Equal(await client.GetByteArrayAsync(second["output"]![0]!.GetValue<string>()),
            Convert.FromBase64String(body["images"]![2]!.GetValue<string>()));
        var jobs = JsonNode.Parse(await client.GetStringAsync("/v1/predictions"))!["results"]!.AsArray();
        Assert.Equal(3, jobs.Count);
    }

    [Theory]
    [InlineData("""{"prompt": "x", "enable_hr": true, "hr_scale": 4}""", "hr_scale", "at most 1024x1024")]
    [InlineData("""{"prompt": "x", "enable_hr": true, "denoising_strength": 1.5}""", "denoising_strength", "between 0 and 1")]
    [InlineData("""{"prompt": "x", "enable_hr": true, "hr_second_pass_steps": 1000}""", "hr_second_pass_steps", "between 0")]
    [InlineData("""{"prompt": "x", "steps": 0}""", "steps", "between 1 and")]
    [InlineData("""{"prompt": "x", "cfg_scale": "high"}""", "cfg_scale", "number")]
    [InlineData("""{"prompt": "x", "batch_size": 3, "n_iter": 3}""", "n_iter", "at most 4")]
    [InlineData("""{"prompt": "x", "width": 100}""", "width", "multiple of 8")]
    [InlineData("""{"prompt": "x", "override_settings": {"sd_model_checkpoint": "v1-5-pruned-emaonly.safetensors [6ce0161689]"}}""",
        "override_settings.sd_model_checkpoint", "unknown checkpoint")]
    public async Task Invalid_requests_are_problems_naming_the_a1111_field(string json, string field, string message)
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var response = await client.PostAsync("/sdapi/v1/txt2img", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Wire.ProblemAsync(response);
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), problem.ToJsonString());
        Assert.Contains(message, errors[field]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Options_refuse_an_unknown_checkpoint_and_keep_the_current_one()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var response = await client.PostAsync("/sdapi/v1/options",
            new StringContent("""{"sd_model_checkpoint": "nope.safetensors"}""", Encoding.UTF8, "application/json"));
        var options = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/options"))!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await Wire.ProblemAsync(response))["errors"]!.AsObject().ContainsKey("sd_model_checkpoint"));
        Assert.StartsWith("tiny [", options["sd_model_checkpoint"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sd_models_and_samplers_list_what_is_served()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var models = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/sd-models"))!.AsArray();
        var samplers = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/samplers"))!.AsArray();

        var model = Assert.Single(models)!;
        var hash = model["hash"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{10}$", hash);
        Assert.Equal($"tiny [{hash}]", model["title"]!.GetValue<string>());
        Assert.Equal("tiny", model["model_name"]!.GetValue<string>());
        Assert.Equal("tiny", model["filename"]!.GetValue<string>());
        Assert.StartsWith(hash, model["sha256"]!.GetValue<string>());
        Assert.Equal(["PLMS", "DDIM", "Euler", "Euler a", "DPM++ 2M", "DPM++ 2M Karras", "LMS", "Heun", "DPM2", "DPM2 a",
                "DPM++ 2M SDE", "DPM++ 2M SDE Karras", "UniPC", "LCM", "DPM++ 2S", "DEIS"],
            samplers.Select(s => s!["name"]!.GetValue<string>()).ToArray());
        Assert.Contains("k_euler_a", samplers.Single(s => s!["name"]!.GetValue<string>() == "Euler a")!["aliases"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task Progress_is_idle_zero_without_a1111_calls()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var progress = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/progress"))!;

        Assert.Equal(0, progress["progress"]!.GetValue<double>());
        Assert.Equal(0, progress["eta_relative"]!.GetValue<double>());
        Assert.Equal(0, progress["state"]!["job_count"]!.GetValue<int>());
        Assert.Equal("", progress["state"]!["job"]!.GetValue<string>());
        Assert.Null(progress["current_image"]);
    }

    [Fact]
    public async Task Progress_follows_the_running_call_and_interrupt_stops_it()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var call = PostAsync(client, "/sdapi/v1/txt2img", """
            {"prompt": "slow", "steps": 999, "width": 512, "height": 512, "n_iter": 2, "seed": 7}
            """);

        // Step 2 reported: the A1111 run has seen step 1 at least (it hears each event after the recorder).
        await factory.Events.StepAsync(jobIndex: 0, step: 2);
        var running = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/progress"))!;
        var interrupt = await client.PostAsync("/sdapi/v1/interrupt", null);
        var (status, body) = await call;
        var idle = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/progress"))!;

        Assert.InRange(running["progress"]!.GetValue<double>(), 0.01, 0.5);
        Assert.Equal("scripts_txt2img", running["state"]!["job"]!.GetValue<string>());
        Assert.Equal(2, running["state"]!["job_count"]!.GetValue<int>());
        Assert.Equal(0, running["state"]!["job_no"]!.GetValue<int>());
        Assert.Equal(999, running["state"]!["sampling_steps"]!.GetValue<int>());
        Assert.True(running["eta_relative"]!.GetValue<double>() > 0);
        Assert.Equal("{}", await interrupt.Content.ReadAsStringAsync());
        // A1111 answers an interrupted call normally, with what it finished (here: nothing).
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(body["images"]!.AsArray());
        Assert.Equal(0, idle["state"]!["job_count"]!.GetValue<int>());
        // The second batch never started: one job, canceled.
        var jobs = JsonNode.Parse(await client.GetStringAsync("/v1/predictions"))!["results"]!.AsArray();
        Assert.Equal("canceled", Assert.Single(jobs)!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Current_image_is_the_last_finished_batch_only_when_asked()
    {
        await using var factory = new ServerFactory(new() { ["Limits:MaxSteps"] = "999" });
        var client = await factory.ReadyClientAsync();
        var call = PostAsync(client, "/sdapi/v1/txt2img", """
            {"prompt": "two batches", "steps": 999, "width": 256, "height": 256, "n_iter": 2, "seed": 5, "sampler_name": "Euler"}
            """);

        await factory.Events.StepAsync(jobIndex: 1, step: 1);
        var second = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/progress"))!;
        var asked = JsonNode.Parse(await client.GetStringAsync("/sdapi/v1/progress?skip_current_image=false"))!;
        await client.PostAsync("/sdapi/v1/interrupt", null);
        var (status, body) = await call;

        Assert.Equal(1, second["state"]!["job_no"]!.GetValue<int>());
        Assert.Null(second["current_image"]);
        var preview = Convert.FromBase64String(asked["current_image"]!.GetValue<string>());
        Assert.Equal(PngSignature, preview[..8]);
        // The interrupted call returns the finished first batch, which is what current_image showed.
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Convert.ToBase64String(preview), Assert.Single(body["images"]!.AsArray())!.GetValue<string>());
        Assert.Equal([5L], Info(body)["all_seeds"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray());
    }

    [Fact]
    public async Task Skip_drops_the_running_batch_and_the_call_goes_on()
    {
        await using var factory = new ServerFactory(new() { ["Limits:MaxSteps"] = "999" });
        var client = await factory.ReadyClientAsync();
        var call = PostAsync(client, "/sdapi/v1/txt2img", """
            {"prompt": "skip one", "steps": 999, "width": 256, "height": 256, "n_iter": 2, "seed": 5, "sampler_name": "Euler"}
            """);

        await factory.Events.StepAsync(jobIndex: 0, step: 1);
        await client.PostAsync("/sdapi/v1/skip", null);
        var (status, body) = await call;

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(body["images"]!.AsArray());
        // The second batch's seed: the first (seed 5) was skipped.
        Assert.Equal([6L], Info(body)["all_seeds"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray());
    }

    [Fact]
    public async Task Img2img_wiki_payload_runs_on_raw_base64()
    {
        // The A1111 wiki's img2img example (w-e-w's gist): raw base64 init_images, denoising_strength 0.5.
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var init = Convert.ToBase64String(OpenAiImagesTests.TestPng());

        var (status, body) = await PostAsync(client, "/sdapi/v1/img2img", $$"""
            {"prompt": "1girl, blue hair", "seed": 1, "steps": 4, "width": 64, "height": 64, "denoising_strength": 0.5,
             "n_iter": 1, "init_images": ["{{init}}"], "batch_size": 1}
            """);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var image = Convert.FromBase64String(Assert.Single(body["images"]!.AsArray())!.GetValue<string>());
        Assert.Equal(0.5, Info(body)["denoising_strength"]!.GetValue<double>());
        Assert.Contains("Denoising strength: 0.5", PngWriter.ReadParameters(image));
        Assert.Null(body["parameters"]!["init_images"]);
    }

    [Fact]
    public async Task Img2img_with_a_mask_is_inpainting()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        var init = "data:image/png;base64," + Convert.ToBase64String(OpenAiImagesTests.TestPng());
        var mask = Convert.ToBase64String(OpenAiImagesTests.TestPng(transparentHalf: true));

        var (status, body) = await PostAsync(client, "/sdapi/v1/img2img", $$"""
            {"prompt": "a door", "seed": 2, "steps": 4, "width": 64, "height": 64, "init_images": ["{{init}}"], "mask": "{{mask}}",
             "mask_blur": 4, "inpainting_fill": 1, "inpaint_full_res": false, "include_init_images": true}
            """);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Single(body["images"]!.AsArray());
        Assert.Equal(0.75, Info(body)["denoising_strength"]!.GetValue<double>());
        Assert.Equal(mask, body["parameters"]!["mask"]!.GetValue<string>());
    }

    [Fact]
    public async Task Img2img_on_a_model_without_the_task_names_why()
    {
        await using var factory = new ServerFactory(new() { ["Models:Items:0:Path"] = OpenAiImagesTests.TextOnlyModel() });
        var client = await factory.ReadyClientAsync();
        var init = Convert.ToBase64String(OpenAiImagesTests.TestPng());

        var (status, body) = await PostAsync(client, "/sdapi/v1/img2img", $$"""{"prompt": "x", "init_images": ["{{init}}"]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("cannot do image-to-image", body["errors"]!["init_images"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Img2img_without_init_images_names_the_field()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var (status, body) = await PostAsync(client, "/sdapi/v1/img2img", """{"prompt": "x"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(body["errors"]!.AsObject().ContainsKey("init_images"));
    }

    [Fact]
    public async Task Send_images_false_returns_info_without_images()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var (status, body) = await PostAsync(client, "/sdapi/v1/txt2img", """{"prompt": "x", "steps": 2, "width": 64, "height": 64, "send_images": false}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(body["images"]!.AsArray());
        Assert.Single(Info(body)["infotexts"]!.AsArray());
    }

    [Fact]
    public async Task Full_queue_is_429_with_retry_after()
    {
        await using var factory = new ServerFactory(new() { ["Queue:Capacity"] = "1", ["Queue:RetryAfterSeconds"] = "8" });
        var client = await factory.ReadyClientAsync();
        var running = await Wire.RunningSlowJobAsync(client);
        await Wire.CreatedAsync(client, Wire.Input());

        var response = await client.PostAsync("/sdapi/v1/txt2img",
            new StringContent("""{"prompt": "x", "steps": 2, "width": 64, "height": 64}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(8), response.Headers.RetryAfter!.Delta);
        Assert.Equal("Queue full", (await Wire.ProblemAsync(response))["title"]!.GetValue<string>());
        await client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
    }

    [Fact]
    public async Task Api_keys_are_accepted_as_basic_auth_password_or_bearer()
    {
        // Open WebUI and SillyTavern send A1111's --api-auth "user:password" as HTTP Basic.
        await using var factory = new ServerFactory(new() { ["Auth:ApiKeys:0"] = Key });
        var client = await factory.ReadyClientAsync();
        HttpRequestMessage Get(AuthenticationHeaderValue? auth) => new(HttpMethod.Get, "/sdapi/v1/sd-models") { Headers = { Authorization = auth } };

        var anonymous = await client.SendAsync(Get(null));
        var basic = await client.SendAsync(Get(new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("webui:" + Key)))));
        var wrongBasic = await client.SendAsync(Get(new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("webui:nope-nope-nope-nope")))));
        var bearer = await client.SendAsync(Get(new("Bearer", Key)));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        Assert.Equal(HttpStatusCode.OK, basic.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongBasic.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }
}
