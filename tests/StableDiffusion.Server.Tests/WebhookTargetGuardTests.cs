using System.Net;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Webhooks;

namespace StableDiffusion.Server.Tests;

public sealed class WebhookTargetGuardTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("172.16.5.4", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("93.184.216.34", false)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("2606:4700:4700::1111", false)]
    [InlineData("2002:0a00:0001::1", true)]
    [InlineData("64:ff9b::a9fe:a9fe", true)]
    [InlineData("64:ff9b::808:808", false)]
    public void Internal_ranges_are_recognised(string address, bool isInternal)
        => Assert.Equal(isInternal, WebhookTargetGuard.IsInternal(IPAddress.Parse(address)));

    private sealed class Monitor(WebhookOptions value) : IOptionsMonitor<WebhookOptions>
    {
        public WebhookOptions CurrentValue => value;
        public WebhookOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<WebhookOptions, string?> listener) => null;
    }

    [Fact]
    public async Task Connect_time_check_refuses_a_hostname_that_resolves_to_loopback()
    {
        // "localhost" passes no literal-IP check in the callback itself: the refusal comes from the resolved address.
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = WebhookTargetGuard.ConnectCallback(new Monitor(new WebhookOptions { AllowPrivateTargets = false })),
            UseProxy = false,
        };
        using var client = new HttpClient(handler);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://localhost:9/"));

        Assert.IsType<WebhookTargetRefusedException>(error.InnerException);
    }
}
