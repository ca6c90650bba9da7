using System.Net;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class BlankApiKeyTests
{
    // docker-compose.yml passes Auth__ApiKeys__0=${SD_API_KEY:-}: an unset SD_API_KEY arrives as an empty key.
    [Fact]
    public async Task Blank_api_key_from_an_unset_variable_means_no_authentication()
    {
        await using var factory = new ServerFactory(new() { ["Auth:ApiKeys:0"] = "", ["Auth:ApiKeys:1"] = "  " });
        var client = await factory.ReadyClientAsync();

        var anonymous = await client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
    }
}
