using System.Net;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Webhooks;

namespace StableDiffusion.Server.Tests;

/// <summary>
/// Every spelling of an internal host that a URL parser, a resolver or a socket accepts: the up-front check must refuse
/// each one (without DNS), and the connect-time guard must agree.
/// </summary>
public sealed class WebhookHostFormsTests
{
    public static TheoryData<string> InternalForms => new()
    {
        // Names that never reach DNS.
        "http://localhost/", "http://LOCALHOST/", "http://LocalHost:8080/", "http://localhost./", "http://localhost../",
        "http://api.localhost/", "http://API.LOCALHOST./", "https://localhost:443/hook", "http://user:pw@localhost/",
        // IPv4 literals, every form inet_aton and .NET accept: dotted, shortened, octal, hex, one 32-bit number.
        "http://127.0.0.1/", "http://127.0.0.1./", "http://127.1/", "http://127.0.1/", "http://0177.0.0.1/",
        "http://0x7f.0.0.1/", "http://0x7F.1/", "http://0x7f000001/", "http://2130706433/", "http://017700000001/",
        "http://127.000.000.001/", "http://0/", "http://0.0.0.0/", "http://10.0.0.1/", "http://012.0.0.1/",
        "http://192.168.1.1./", "http://3232235777/", "http://172.16.0.1/", "http://169.254.169.254/",
        "http://0xa9fea9fe/", "http://2852039166/", "http://100.64.0.1/", "http://224.0.0.1/", "http://255.255.255.255/",
        // IPv6 literals: loopback, unspecified, mapped, compatible, link-local with zone, ULA, 6to4, NAT64.
        "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/", "http://[0000::0001]/", "http://[::]/", "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
        "http://[::ffff:10.0.0.1]/", "http://[::127.0.0.1]/", "http://[::7f00:1]/", "http://[fe80::1]/",
        "http://[fe80::1%25eth0]/", "http://[FE80::1]/", "http://[fd00::1]/", "http://[fc00::]/", "http://[ff02::1]/",
        "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::1]/", "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/",
    };

    [Theory]
    [MemberData(nameof(InternalForms))]
    public void Up_front_check_refuses_every_internal_host_form(string url)
    {
        var error = WebhookTargetGuard.ValidateUrl(url, allowPrivate: false, out _);

        Assert.NotNull(error);
    }

    [Theory]
    [MemberData(nameof(InternalForms))]
    public async Task Connect_time_guard_refuses_the_same_forms(string url)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = WebhookTargetGuard.ConnectCallback(new Monitor(new WebhookOptions { AllowPrivateTargets = false })),
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        using var client = new HttpClient(handler);

        var error = await Record.ExceptionAsync(() => client.GetAsync(url));

        // HttpClient refuses a few forms (localhost..) as malformed before connecting; the rest reach the guard.
        Assert.True(error is UriFormatException || error is HttpRequestException { InnerException: WebhookTargetRefusedException },
            $"{url}: {error}");
    }

    [Theory]
    [InlineData("http://example.com/hook")]
    [InlineData("https://hooks.example.com:8443/x?y=1")]
    [InlineData("http://8.8.8.8/")]
    [InlineData("http://134744072/")] // 8.8.8.8 as one number: public, so allowed like its dotted form
    [InlineData("http://[2606:4700:4700::1111]/")]
    [InlineData("http://localhost.example.com/")] // a DNS name: the connect-time guard checks what it resolves to
    [InlineData("http://172.32.0.1/")]
    public void Public_hosts_pass_the_up_front_check(string url)
        => Assert.Null(WebhookTargetGuard.ValidateUrl(url, allowPrivate: false, out _));

    [Theory]
    [InlineData("http://ｌｏｃａｌｈｏｓｔ/")]
    [InlineData("http://lоcalhost/")] // Cyrillic 'о'
    [InlineData("http://xn--localhost-/")]
    [InlineData("http://%6c%6f%63%61%6c%68%6f%73%74/")]
    [InlineData("http://127%2e0%2e0%2e1/")]
    public void Unicode_and_escaped_hosts_are_refused_or_are_not_loopback_names(string url)
    {
        // Either the check refuses it, or what the connection would resolve (Uri.IdnHost) is not an internal name.
        var error = WebhookTargetGuard.ValidateUrl(url, allowPrivate: false, out var uri);

        if (error is null)
        {
            var host = WebhookTargetGuard.NormalizeHost(uri!.IdnHost);
            Assert.False(WebhookTargetGuard.IsInternalWithoutDns(host), $"{url} → {host}");
            Assert.NotEqual("localhost", host);
            Assert.False(IPAddress.TryParse(host, out _), $"{url} → {host} is an IP literal that passed");
        }
    }

    [Fact]
    public void The_machines_own_name_is_refused_up_front()
    {
        var error = WebhookTargetGuard.ValidateUrl($"http://{Dns.GetHostName()}./hook", allowPrivate: false, out _);

        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("ftp://example.com/")]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://localhost/")]
    [InlineData("//example.com/")]
    [InlineData("http://")]
    [InlineData("http:///path")]
    [InlineData("javascript:alert(1)")]
    public void Non_http_urls_are_refused(string url)
        => Assert.NotNull(WebhookTargetGuard.ValidateUrl(url, allowPrivate: false, out _));

    private sealed class Monitor(WebhookOptions value) : IOptionsMonitor<WebhookOptions>
    {
        public WebhookOptions CurrentValue => value;
        public WebhookOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<WebhookOptions, string?> listener) => null;
    }
}
