using System.Net;
using System.Net.Http.Headers;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class EdgeTests
{
    private const string Key = "test-key-0123456789abcdef";

    [Fact]
    public async Task Api_keys_when_configured_are_required()
    {
        await using var factory = new ServerFactory(new() { ["Auth:ApiKeys:0"] = Key });
        var client = await factory.ReadyClientAsync();

        var anonymous = await client.GetAsync("/v1/models");
        var wrong = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { Authorization = new("Bearer", "nope-nope-nope-nope") } });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var allowed = await client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Output_files_and_streams_need_no_key_their_ids_are_the_credential()
    {
        await using var factory = new ServerFactory(new() { ["Auth:ApiKeys:0"] = Key });
        var client = await factory.ReadyClientAsync();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var done = await Wire.CreatedAsync(client, Wire.Input(), prefer: "wait");
        var anonymous = factory.CreateClient();

        var file = await anonymous.GetAsync(done["output"]![0]!.GetValue<string>());
        var stream = await anonymous.GetAsync($"/v1/predictions/{done.Id()}/stream");
        var prediction = await anonymous.GetAsync($"/v1/predictions/{done.Id()}");

        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, prediction.StatusCode);
    }

    [Fact]
    public async Task Each_key_lists_only_its_own_predictions()
    {
        await using var factory = new ServerFactory(new() { ["Auth:ApiKeys:0"] = Key, ["Auth:ApiKeys:1"] = Key + "-second" });
        var first = await factory.ReadyClientAsync();
        first.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var second = factory.CreateClient();
        second.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key + "-second");
        var mine = await Wire.CreatedAsync(first, Wire.Input());
        var theirs = await Wire.CreatedAsync(second, Wire.Input());

        var firstList = System.Text.Json.Nodes.JsonNode.Parse(await first.GetStringAsync("/v1/predictions"))!["results"]!.AsArray();
        var secondList = System.Text.Json.Nodes.JsonNode.Parse(await second.GetStringAsync("/v1/predictions"))!["results"]!.AsArray();

        Assert.Equal([mine.Id()], firstList.Select(p => p!["id"]!.GetValue<string>()).ToArray());
        Assert.Equal([theirs.Id()], secondList.Select(p => p!["id"]!.GetValue<string>()).ToArray());
        Assert.Equal(HttpStatusCode.NotFound, (await second.GetAsync($"/v1/predictions/{mine.Id()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await second.PostAsync($"/v1/predictions/{mine.Id()}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync($"/v1/predictions/{mine.Id()}")).StatusCode);
    }

    [Fact]
    public async Task Operations_endpoints_need_no_key()
    {
        await using var factory = new ServerFactory(new() { ["Auth:ApiKeys:0"] = Key });
        var client = await factory.ReadyClientAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Rate_limit_per_key_answers_429_with_retry_after()
    {
        await using var factory = new ServerFactory(new()
        {
            ["RateLimits:Enabled"] = "true",
            ["RateLimits:PermitLimit"] = "2",
            ["RateLimits:WindowSeconds"] = "3600",
            ["Auth:ApiKeys:0"] = Key,
            ["Auth:ApiKeys:1"] = Key + "-second",
        });
        var client = await factory.ReadyClientAsync();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var other = factory.CreateClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key + "-second");

        await client.GetAsync("/v1/models");
        await client.GetAsync("/v1/models");
        var limited = await client.GetAsync("/v1/models");
        var otherKey = await other.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal("Rate limit exceeded", (await Wire.ProblemAsync(limited))["title"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
    }

    [Fact]
    public async Task Cors_allows_configured_origins_only()
    {
        await using var factory = new ServerFactory(new() { ["Cors:Origins:0"] = "https://app.example.com" });
        var client = await factory.ReadyClientAsync();

        HttpRequestMessage Preflight(string origin) => new(HttpMethod.Options, "/v1/predictions")
        {
            Headers =
            {
                { "Origin", origin },
                { "Access-Control-Request-Method", "POST" },
                { "Access-Control-Request-Headers", "content-type,authorization" },
            },
        };
        var allowed = await client.SendAsync(Preflight("https://app.example.com"));
        var refused = await client.SendAsync(Preflight("https://evil.example.com"));

        Assert.Equal("https://app.example.com", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Urls_honour_forwarded_proto_host_and_prefix()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/predictions")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new System.Text.Json.Nodes.JsonObject { ["input"] = Wire.Input() }),
        };
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "sd.example.com");
        request.Headers.Add("X-Forwarded-Prefix", "/sd");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        request.Headers.Add("Prefer", "wait");

        var response = await client.SendAsync(request);
        var prediction = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        var id = prediction["id"]!.GetValue<string>();
        Assert.Equal($"https://sd.example.com/sd/v1/predictions/{id}", prediction["urls"]!["get"]!.GetValue<string>());
        Assert.Equal($"https://sd.example.com/sd/v1/predictions/{id}/stream", prediction["urls"]!["stream"]!.GetValue<string>());
        Assert.StartsWith("https://sd.example.com/sd/v1/files/", prediction["output"]![0]!.GetValue<string>());
    }
}
