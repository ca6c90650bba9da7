using System.Net;
using System.Text;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>
/// CORS as a browser exercises it: a preflight (OPTIONS with Origin and Access-Control-Request-*) before a POST with
/// JSON and an Authorization header, then the request itself. A configured origin may read the answers; any other
/// origin gets no Access-Control-Allow-Origin, so the browser withholds the answer from the page.
/// </summary>
public sealed class CorsTests
{
    private const string Allowed = "https://app.example.com";
    private const string Other = "https://evil.example.com";
    private const string Key = "test-key-0123456789abcdef";

    public static TheoryData<string> Posts => new()
    {
        "/v1/predictions", "/v1/images/generations", "/v1/images/edits", "/sdapi/v1/txt2img", "/sdapi/v1/img2img", "/sdapi/v1/options",
    };

    private static HttpRequestMessage Preflight(string path, string origin) => new(HttpMethod.Options, path)
    {
        Headers =
        {
            { "Origin", origin },
            { "Access-Control-Request-Method", "POST" },
            { "Access-Control-Request-Headers", "content-type,authorization" },
        },
    };

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    [Theory]
    [MemberData(nameof(Posts))]
    public async Task Preflight_from_a_configured_origin_is_allowed(string path)
    {
        await using var factory = new ServerFactory(new() { ["Cors:Origins:0"] = Allowed });
        var client = factory.CreateClient();

        var response = await client.SendAsync(Preflight(path, Allowed));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Header(response, "Access-Control-Allow-Methods"));
        var headers = Header(response, "Access-Control-Allow-Headers")!.ToLowerInvariant();
        Assert.Contains("authorization", headers);
        Assert.Contains("content-type", headers);
    }

    [Theory]
    [MemberData(nameof(Posts))]
    public async Task Preflight_from_another_origin_is_refused(string path)
    {
        await using var factory = new ServerFactory(new() { ["Cors:Origins:0"] = Allowed });
        var client = factory.CreateClient();

        var response = await client.SendAsync(Preflight(path, Other));

        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Allow-Methods"));
    }

    [Fact]
    public async Task Without_configured_origins_no_origin_is_allowed()
    {
        await using var factory = new ServerFactory();
        var client = factory.CreateClient();

        var response = await client.SendAsync(Preflight("/v1/images/generations", Allowed));

        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Preflight_needs_no_api_key_even_when_keys_are_required()
    {
        // Browsers never send credentials on a preflight; the key comes with the request itself.
        await using var factory = new ServerFactory(new() { ["Cors:Origins:0"] = Allowed, ["Auth:ApiKeys:0"] = Key });
        var client = factory.CreateClient();

        var response = await client.SendAsync(Preflight("/sdapi/v1/txt2img", Allowed));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Actual_requests_from_a_configured_origin_can_be_read()
    {
        await using var factory = new ServerFactory(new() { ["Cors:Origins:0"] = Allowed });
        var client = await factory.ReadyClientAsync();
        using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { { "Origin", Allowed } } };
        using var post = new HttpRequestMessage(HttpMethod.Post, "/sdapi/v1/txt2img")
        {
            Headers = { { "Origin", Allowed } },
            Content = new StringContent("""{"prompt": "x", "steps": 2, "width": 64, "height": 64}""", Encoding.UTF8, "application/json"),
        };

        var models = await client.SendAsync(get);
        var image = await client.SendAsync(post);

        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Equal(Allowed, Header(models, "Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal(Allowed, Header(image, "Access-Control-Allow-Origin"));
        // A page needs Retry-After to back off after a 429; CORS hides headers that are not exposed.
        Assert.Contains("Retry-After", Header(image, "Access-Control-Expose-Headers"));
    }

    [Fact]
    public async Task Errors_from_a_configured_origin_can_be_read_too()
    {
        await using var factory = new ServerFactory(new() { ["Cors:Origins:0"] = Allowed, ["Auth:ApiKeys:0"] = Key });
        var client = await factory.ReadyClientAsync();
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations")
        {
            Headers = { { "Origin", Allowed } },
            Content = new StringContent("""{"prompt": "x"}""", Encoding.UTF8, "application/json"),
        };

        var response = await client.SendAsync(post);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Actual_requests_from_another_origin_carry_no_allow_origin()
    {
        await using var factory = new ServerFactory(new() { ["Cors:Origins:0"] = Allowed });
        var client = await factory.ReadyClientAsync();
        using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { { "Origin", Other } } };

        var response = await client.SendAsync(get);

        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Star_allows_any_origin()
    {
        await using var factory = new ServerFactory(new() { ["Cors:Origins:0"] = "*" });
        var client = factory.CreateClient();

        var response = await client.SendAsync(Preflight("/v1/images/generations", Other));

        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
    }
}
