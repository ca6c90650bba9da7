using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>A real Kestrel server on loopback that records webhook deliveries; the first <c>failFirst</c> answer 500.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    private WebhookReceiver(WebApplication app, int failFirst)
    {
        _app = app;
        _failuresLeft = failFirst;
    }

    public Channel<JsonObject> Deliveries { get; } = Channel.CreateUnbounded<JsonObject>();

    public int Attempts;

    /// <summary>Signature headers and raw body of every accepted delivery.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string Id, string Timestamp, string Signature, string Body)> Raw { get; } = new();

    public string Url { get; private set; } = "";

    public static async Task<WebhookReceiver> StartAsync(int failFirst = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, failFirst);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            Interlocked.Increment(ref receiver.Attempts);
            var text = await new StreamReader(request.Body).ReadToEndAsync();
            var body = JsonNode.Parse(text)!.AsObject();
            if (Interlocked.Decrement(ref receiver._failuresLeft) >= 0)
            {
                return Results.StatusCode(500);
            }
            receiver.Raw.Enqueue((request.Headers["webhook-id"].ToString(), request.Headers["webhook-timestamp"].ToString(),
                request.Headers["webhook-signature"].ToString(), text));
            receiver.Deliveries.Writer.TryWrite(body);
            return Results.Ok();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address + "/hook";
        return receiver;
    }

    /// <summary>Reads deliveries until one has a terminal status (two-minute safety net).</summary>
    public async Task<List<JsonObject>> UntilCompletedAsync()
    {
        var list = new List<JsonObject>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var delivery = await Deliveries.Reader.ReadAsync(timeout.Token);
            list.Add(delivery);
            if (delivery["status"]!.GetValue<string>() is "succeeded" or "failed" or "canceled")
            {
                return list;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
