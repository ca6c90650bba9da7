using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class PredictionsApiTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Create_returns_201_with_every_replicate_prediction_field()
    {
        var response = await Wire.CreateAsync(_client, Wire.Input());
        var prediction = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        // The field set of Replicate's prediction object (DESIGN §5), no more, no less.
        Assert.Equal(
            ["completed_at", "created_at", "error", "id", "input", "logs", "metrics", "model", "output", "started_at", "status", "urls", "version"],
            prediction.Select(p => p.Key).Order().ToArray());
        Assert.Equal(["cancel", "get", "stream"], prediction["urls"]!.AsObject().Select(p => p.Key).Order().ToArray());
        Assert.Equal(["predict_time", "queue_time"], prediction["metrics"]!.AsObject().Select(p => p.Key).Order().ToArray());
        Assert.Equal("test/tiny", prediction["model"]!.GetValue<string>());
        Assert.Equal("tiny", prediction["version"]!.GetValue<string>());
        Assert.Equal("a red fox", prediction["input"]!["prompt"]!.GetValue<string>());
        Assert.Equal($"http://localhost/v1/predictions/{prediction.Id()}", prediction["urls"]!["get"]!.GetValue<string>());
        Assert.Equal(prediction["urls"]!["get"]!.GetValue<string>(), response.Headers.Location!.ToString());
        Assert.Matches("^[a-z2-7]{26}$", prediction.Id());
    }

    [Fact]
    public async Task Prediction_succeeds_with_png_file_urls_logs_and_metrics()
    {
        var created = await Wire.CreatedAsync(_client, Wire.Input(steps: 3));

        var done = await Wire.WaitDoneAsync(_client, created.Id());

        Assert.Equal("succeeded", done.Status());
        var output = done["output"]!.AsArray();
        Assert.Single(output);
        var file = await _client.GetAsync(output[0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("image/png", file.Content.Headers.ContentType!.MediaType);
        var png = await file.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        var logs = done["logs"]!.GetValue<string>();
        Assert.Contains("Using seed: 1", logs);
        Assert.Contains("100%|██████████| 3/3", logs);
        Assert.True(done["metrics"]!["predict_time"]!.GetValue<double>() > 0);
        Assert.True(done["metrics"]!["queue_time"]!.GetValue<double>() >= 0);
        Assert.NotNull(done["started_at"]);
        Assert.NotNull(done["completed_at"]);
    }

    [Fact]
    public async Task Prefer_wait_returns_the_finished_prediction()
    {
        var prediction = await Wire.CreatedAsync(_client, Wire.Input(), prefer: "wait");

        Assert.Equal("succeeded", prediction.Status());
        Assert.Single(prediction["output"]!.AsArray());
    }

    [Fact]
    public async Task Prefer_wait_with_seconds_is_accepted()
    {
        var prediction = await Wire.CreatedAsync(_client, Wire.Input(), prefer: "wait=30");

        Assert.Equal("succeeded", prediction.Status());
    }

    [Fact]
    public async Task Missing_seed_is_drawn_and_reported_in_the_logs()
    {
        var input = Wire.Input();
        input.Remove("seed");

        var done = await Wire.CreatedAsync(_client, input, prefer: "wait");

        Assert.Matches(@"Using seed: \d+ \(random\)", done["logs"]!.GetValue<string>());
    }

    [Fact]
    public async Task Same_seed_gives_the_same_image_bytes()
    {
        var a = await Wire.CreatedAsync(_client, Wire.Input(seed: 7), prefer: "wait");
        var b = await Wire.CreatedAsync(_client, Wire.Input(seed: 7), prefer: "wait");

        var bytesA = await _client.GetByteArrayAsync(a["output"]![0]!.GetValue<string>());
        var bytesB = await _client.GetByteArrayAsync(b["output"]![0]!.GetValue<string>());
        Assert.Equal(bytesA, bytesB);
    }

    [Fact]
    public async Task Num_outputs_gives_that_many_files()
    {
        var input = Wire.Input();
        input["num_outputs"] = 3;

        var done = await Wire.CreatedAsync(_client, input, prefer: "wait");

        Assert.Equal(3, done["output"]!.AsArray().Count);
        Assert.Equal(3, done["output"]!.AsArray().Select(o => o!.GetValue<string>()).Distinct().Count());
    }

    [Theory]
    [InlineData("webp", "image/webp", new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F' })]
    [InlineData("jpg", "image/jpeg", new byte[] { 0xFF, 0xD8, 0xFF })]
    public async Task Output_format_changes_the_file_type(string format, string contentType, byte[] magic)
    {
        var input = Wire.Input();
        input["output_format"] = format;

        var done = await Wire.CreatedAsync(_client, input, prefer: "wait");
        var file = await _client.GetAsync(done["output"]![0]!.GetValue<string>());
        var bytes = await file.Content.ReadAsByteArrayAsync();

        Assert.Equal(contentType, file.Content.Headers.ContentType!.MediaType);
        Assert.Equal(magic, bytes[..magic.Length]);
    }

    [Fact]
    public async Task Output_as_data_uri_field_returns_inline_images()
    {
        var done = await Wire.CreatedAsync(_client, Wire.Input(), new JsonObject { ["output_as_data_uri"] = true }, prefer: "wait");

        var output = done["output"]![0]!.GetValue<string>();
        Assert.StartsWith("data:image/png;base64,", output);
        var png = Convert.FromBase64String(output["data:image/png;base64,".Length..]);
        Assert.Equal((byte)'P', png[1]);
    }

    [Fact]
    public async Task Output_as_data_uri_header_returns_inline_images()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/predictions")
        {
            Content = JsonContent.Create(new JsonObject { ["input"] = Wire.Input() }),
        };
        request.Headers.Add("Prefer", "wait");
        request.Headers.Add("X-Output-As-Data-Uri", "true");

        var response = await _client.SendAsync(request);
        var done = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.StartsWith("data:image/png;base64,", done["output"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Model_path_endpoint_creates_a_prediction_for_that_model()
    {
        var response = await _client.PostAsJsonAsync("/v1/models/test/tiny/predictions", new JsonObject { ["input"] = Wire.Input() });
        var prediction = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("test/tiny", prediction["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_model_on_the_model_path_is_404()
    {
        var response = await _client.PostAsJsonAsync("/v1/models/test/nope/predictions", new JsonObject { ["input"] = Wire.Input() });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("nope", (await Wire.ProblemAsync(response))["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Version_may_name_the_model()
    {
        var prediction = await Wire.CreatedAsync(_client, Wire.Input(), new JsonObject { ["version"] = "tiny" });

        Assert.Equal("tiny", prediction["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_of_an_unknown_prediction_is_404_problem()
    {
        var response = await _client.GetAsync("/v1/predictions/doesnotexist");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(404, (await Wire.ProblemAsync(response))["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task Cancel_of_an_unknown_prediction_is_404()
    {
        var response = await _client.PostAsync("/v1/predictions/doesnotexist/cancel", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_file_is_404()
    {
        var response = await _client.GetAsync("/v1/files/doesnotexist");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Cancel_of_a_finished_prediction_leaves_it_succeeded()
    {
        var done = await Wire.CreatedAsync(_client, Wire.Input(), prefer: "wait");

        var response = await _client.PostAsync($"/v1/predictions/{done.Id()}/cancel", null);
        var after = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("succeeded", after.Status());
    }

    [Fact]
    public async Task List_pages_newest_first_with_next_and_previous_cursors()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await Wire.CreatedAsync(_client, Wire.Input())).Id());
        }

        var first = (await _client.GetFromJsonAsync<JsonObject>("/v1/predictions?page_size=2"))!;
        var second = (await _client.GetFromJsonAsync<JsonObject>(first["next"]!.GetValue<string>()))!;
        var back = (await _client.GetFromJsonAsync<JsonObject>(second["previous"]!.GetValue<string>()))!;

        string[] Ids(JsonObject page) => page["results"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()).ToArray();
        Assert.Equal([ids[4], ids[3]], Ids(first));
        Assert.Null(first["previous"]);
        Assert.Equal([ids[2], ids[1]], Ids(second));
        Assert.Equal(Ids(first), Ids(back));
        Assert.StartsWith("http://localhost/v1/predictions?", first["next"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_rejects_a_forged_cursor()
    {
        var response = await _client.GetAsync("/v1/predictions?cursor=garbage!");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await Wire.ProblemAsync(response))["errors"]!["cursor"]);
    }
}
