using System.Net;
using System.Text.RegularExpressions;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>The page at / (tests/e2e/playground drives it in Chromium; these check what the server sends).</summary>
public sealed partial class PlaygroundTests
{
    [Fact]
    public async Task Root_serves_the_playground_with_a_self_only_content_security_policy()
    {
        await using var factory = new ServerFactory();
        var client = factory.CreateClient();

        var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<title>Stable Diffusion playground</title>", await response.Content.ReadAsStringAsync());
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("script-src 'self'", csp);
    }

    [Theory]
    [InlineData("/playground.js", "text/javascript")]
    [InlineData("/playground.css", "text/css")]
    public async Task Assets_are_served_from_wwwroot(string path, string mediaType)
    {
        await using var factory = new ServerFactory();
        var client = factory.CreateClient();

        var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Page_and_script_use_relative_urls_only_so_a_path_prefix_works()
    {
        await using var factory = new ServerFactory();
        var client = factory.CreateClient();

        var html = await client.GetStringAsync("/");
        var script = await client.GetStringAsync("/playground.js");

        var references = Reference().Matches(html).Select(m => m.Groups[1].Value).ToArray();
        Assert.Contains("playground.js", references);
        Assert.Contains("playground.css", references);
        Assert.All(references, r => Assert.False(r.StartsWith('/') || r.Contains("://"), $"absolute reference {r}"));
        // No CDN, no absolute API paths: the API is reached as v1/... relative to the page.
        Assert.DoesNotContain("http://", script);
        Assert.DoesNotContain("https://", script);
        Assert.DoesNotMatch(@"['""`]/v1", script);
        Assert.Contains("`v1/predictions/${", script);
    }

    [Fact]
    public async Task Page_is_public_when_api_keys_are_required()
    {
        await using var factory = new ServerFactory(new() { ["Auth:ApiKeys:0"] = "test-key-0123456789abcdef" });
        var client = factory.CreateClient();

        var page = await client.GetAsync("/");
        var api = await client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [GeneratedRegex("(?:src|href)=\"([^\"]*)\"")]
    private static partial Regex Reference();
}
