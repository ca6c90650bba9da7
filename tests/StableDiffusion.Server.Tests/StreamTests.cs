using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

public sealed class StreamTests : IAsyncLifetime
{
    private readonly ServerFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private static List<(string Event, string Data)> Parse(string text)
    {
        var events = new List<(string, string)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new List<string>();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Add(line[6..]);
            }
            events.Add((name!, string.Join("\n", data)));
        }
        return events;
    }

    [Fact]
    public async Task Stream_sends_logs_then_output_then_done()
    {
        var created = await Wire.CreatedAsync(_client, Wire.Input(steps: 6));

        using var response = await _client.GetAsync(created["urls"]!["stream"]!.GetValue<string>(), HttpCompletionOption.ResponseHeadersRead);
        var events = Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var names = events.Select(e => e.Event).ToArray();
        var firstOutput = Array.IndexOf(names, "output");
        Assert.True(firstOutput > 0, string.Join(",", names));
        Assert.All(names[..firstOutput], n => Assert.Equal("logs", n));
        Assert.Equal("done", names[^1]);
        Assert.Equal("{}", events[^1].Data);
        var logLines = events.Where(e => e.Event == "logs").Select(e => e.Data).ToList();
        Assert.Contains(logLines, l => l.StartsWith("Using seed: 1", StringComparison.Ordinal));
        Assert.Contains(" 50%|█████     | 3/6", logLines.Select(l => l.Split(" [")[0]));
        Assert.Contains("100%|██████████| 6/6", logLines.Select(l => l.Split(" [")[0]));
        var done = await Wire.GetAsync(_client, created.Id());
        Assert.Equal(done["output"]![0]!.GetValue<string>(), events[firstOutput].Data);
    }

    [Fact]
    public async Task Stream_of_a_finished_prediction_replays_and_ends()
    {
        var done = await Wire.CreatedAsync(_client, Wire.Input(), prefer: "wait");

        var text = await _client.GetStringAsync($"/v1/predictions/{done.Id()}/stream");
        var names = Parse(text).Select(e => e.Event).ToArray();

        Assert.Equal(["output", "done"], names[^2..]);
    }

    [Fact]
    public async Task Stream_of_a_canceled_prediction_ends_with_done_reason_canceled()
    {
        var running = await Wire.CreatedAsync(_client, Wire.SlowInput());
        await Wire.WaitRunningAsync(_client, running.Id());
        using var response = await _client.GetAsync($"/v1/predictions/{running.Id()}/stream", HttpCompletionOption.ResponseHeadersRead);

        await _client.PostAsync($"/v1/predictions/{running.Id()}/cancel", null);
        var events = Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("done", events[^1].Event);
        Assert.Equal("canceled", JsonNode.Parse(events[^1].Data)!["reason"]!.GetValue<string>());
        Assert.DoesNotContain(events, e => e.Event == "output");
    }

    [Fact]
    public async Task Stream_of_a_failed_prediction_sends_error_then_done_reason_error()
    {
        var broken = TinyModel.TempFolder("broken");
        Directory.CreateDirectory(broken);
        await using var factory = new ServerFactory(new() { ["Models:Items:1:Name"] = "broken", ["Models:Items:1:Path"] = broken });
        var client = await factory.ReadyClientAsync();
        var failed = await Wire.CreatedAsync(client, Wire.Input(), new JsonObject { ["version"] = "broken" }, prefer: "wait");

        var events = Parse(await client.GetStringAsync($"/v1/predictions/{failed.Id()}/stream"));

        Assert.Equal(["error", "done"], events.Select(e => e.Event).ToArray()[^2..]);
        Assert.Equal(failed["error"]!.GetValue<string>(), events[^2].Data);
        Assert.Equal("error", JsonNode.Parse(events[^1].Data)!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_of_an_unknown_prediction_is_404()
    {
        var response = await _client.GetAsync("/v1/predictions/nope/stream");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }
}
