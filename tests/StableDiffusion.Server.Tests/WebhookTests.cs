using System.Net;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class WebhookTests
{
    private static ServerFactory AllowingPrivateTargets() => new(new()
    {
        ["Webhooks:AllowPrivateTargets"] = "true",
        ["Webhooks:InitialBackoffMilliseconds"] = "10",
    });

    [Fact]
    public async Task Start_and_completed_events_are_delivered_in_order()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var factory = AllowingPrivateTargets();
        var client = await factory.ReadyClientAsync();

        var created = await Wire.CreatedAsync(client, Wire.Input(steps: 3), new JsonObject
        {
            ["webhook"] = receiver.Url,
            ["webhook_events_filter"] = new JsonArray("start", "completed"),
        });
        var deliveries = await receiver.UntilCompletedAsync();

        Assert.Equal(["processing", "succeeded"], deliveries.Select(d => d.Status()).ToArray());
        Assert.All(deliveries, d => Assert.Equal(created.Id(), d.Id()));
        Assert.Single(deliveries[^1]["output"]!.AsArray());
        Assert.StartsWith("http://localhost/v1/files/", deliveries[^1]["output"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Deliveries_are_signed_with_the_published_secret()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var factory = new ServerFactory(new()
        {
            ["Webhooks:AllowPrivateTargets"] = "true",
            ["Webhooks:SigningSecret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        });
        var client = await factory.ReadyClientAsync();
        var secret = JsonNode.Parse(await client.GetStringAsync("/v1/webhooks/default/secret"))!["key"]!.GetValue<string>();

        await Wire.CreatedAsync(client, Wire.Input(), new JsonObject
        {
            ["webhook"] = receiver.Url,
            ["webhook_events_filter"] = new JsonArray("completed"),
        });
        await receiver.UntilCompletedAsync();
        var (id, timestamp, signature, body) = Assert.Single(receiver.Raw);

        // Standard Webhooks, as replicate-javascript's validateWebhook checks it: v1,base64(HMAC-SHA256(key, "id.ts.body")).
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key,
            System.Text.Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        Assert.Equal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", secret);
        Assert.StartsWith("msg_", id);
        Assert.Equal("v1," + expected, signature);
    }

    [Fact]
    public async Task Completed_only_filter_sends_one_delivery()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var factory = AllowingPrivateTargets();
        var client = await factory.ReadyClientAsync();

        await Wire.CreatedAsync(client, Wire.Input(steps: 3), new JsonObject
        {
            ["webhook"] = receiver.Url,
            ["webhook_events_filter"] = new JsonArray("completed"),
        });
        var deliveries = await receiver.UntilCompletedAsync();

        Assert.Single(deliveries);
        Assert.Equal(1, receiver.Attempts);
    }

    [Fact]
    public async Task Failed_deliveries_are_retried()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 2);
        await using var factory = AllowingPrivateTargets();
        var client = await factory.ReadyClientAsync();

        await Wire.CreatedAsync(client, Wire.Input(), new JsonObject
        {
            ["webhook"] = receiver.Url,
            ["webhook_events_filter"] = new JsonArray("completed"),
        });
        var deliveries = await receiver.UntilCompletedAsync();

        Assert.Equal("succeeded", deliveries[^1].Status());
        Assert.Equal(3, receiver.Attempts);
    }

    [Fact]
    public async Task Logs_and_output_events_carry_progress_and_outputs()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var factory = new ServerFactory(new()
        {
            ["Webhooks:AllowPrivateTargets"] = "true",
            ["Webhooks:LogsThrottleMilliseconds"] = "0",
        });
        var client = await factory.ReadyClientAsync();

        await Wire.CreatedAsync(client, Wire.Input(steps: 3), new JsonObject
        {
            ["webhook"] = receiver.Url,
            ["webhook_events_filter"] = new JsonArray("logs", "output"),
        });
        var deliveries = new List<JsonObject>();
        while (deliveries.Count == 0 || deliveries[^1]["output"] is null)
        {
            deliveries.Add(await receiver.Deliveries.Reader.ReadAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token));
        }

        Assert.Contains(deliveries, d => d["logs"]!.GetValue<string>().Contains("| 2/3"));
        Assert.All(deliveries[..^1], d => Assert.Equal("processing", d.Status()));
        Assert.Single(deliveries[^1]["output"] is JsonArray a ? a : []);
        var logLengths = deliveries.Select(d => d["logs"]!.GetValue<string>().Length).ToArray();
        Assert.Equal(logLengths.Order().ToArray(), logLengths);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[fd00::1]/hook")]
    public async Task Private_targets_are_refused_by_default(string url)
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var response = await Wire.CreateAsync(client, Wire.Input(), new JsonObject { ["webhook"] = url });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("private", (await Wire.ProblemAsync(response))["errors"]!["webhook"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Non_http_webhook_is_refused()
    {
        await using var factory = new ServerFactory();
        var client = await factory.ReadyClientAsync();

        var response = await Wire.CreateAsync(client, Wire.Input(), new JsonObject { ["webhook"] = "file:///etc/passwd" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }
}
