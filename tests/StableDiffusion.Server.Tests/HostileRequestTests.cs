using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;
using StableDiffusion.Tests.Shared;
using Xunit.Abstractions;

namespace StableDiffusion.Server.Tests;

/// <summary>
/// The hostile-input suite in process: every case of <see cref="HostileRequests"/> (per field kind over all three
/// surfaces, whole bodies, content types, multipart, images, routes) gets a deliberate answer — never a 5xx, a 4xx in
/// the surface's own error shape naming the field where one is at fault — and after each batch the server is healthy
/// and a normal request succeeds. The raw-socket end-to-end suite (tests/e2e/hostile) sends the same cases over real
/// HTTP and measures the server's memory.
/// </summary>
public sealed class HostileRequestTests(HostileRequestTests.Server server, ITestOutputHelper output) : IClassFixture<HostileRequestTests.Server>
{
    /// <summary>In process on a shared 2-core CI machine; the end-to-end suite holds answers to 1 s.</summary>
    private static readonly TimeSpan MaxErrorTime = TimeSpan.FromSeconds(2);

    public sealed class Server : IAsyncLifetime
    {
        public ServerFactory Factory { get; } = new(new()
        {
            ["Limits:MaxImageBytes"] = HostileRequests.MaxImageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Limits:MaxBodyBytes"] = HostileRequests.MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Limits:MaxSteps"] = "50",
            ["Queue:Capacity"] = "256",
        });

        public HttpClient Client { get; private set; } = null!;

        public async Task InitializeAsync() => Client = await Factory.ReadyClientAsync();

        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    public static TheoryData<string> BatchNames()
    {
        var names = new TheoryData<string>();
        foreach (var (batch, _) in HostileRequests.Batches())
        {
            names.Add(batch);
        }
        return names;
    }

    [Theory]
    [MemberData(nameof(BatchNames))]
    public async Task Every_hostile_request_gets_a_deliberate_answer_and_the_server_stays_healthy(string batch)
    {
        var cases = HostileRequests.Batches().Single(b => b.Batch == batch).Cases;
        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var slowest = TimeSpan.Zero;
        foreach (var hostile in cases)
        {
            (int status, string? mediaType, string body, TimeSpan elapsed) answer;
            try
            {
                answer = await SendAsync(hostile);
                if (answer.status >= 300 && answer.elapsed > MaxErrorTime)
                {
                    // Sent once more: a slow answer the input causes comes back slow, one the busy machine causes does not.
                    answer = await SendAsync(hostile);
                }
            }
            catch (InvalidOperationException e) when (e.Message.Contains("null characters", StringComparison.Ordinal))
            {
                // TestServer's client refuses to build such a request; the raw-socket suite sends it to Kestrel.
                continue;
            }
            var (status, mediaType, body, elapsed) = answer;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status >= 300)
            {
                slowest = elapsed > slowest ? elapsed : slowest;
            }
            if (HostileAnswers.Check(hostile, status, mediaType, body, elapsed, MaxErrorTime) is { } failure)
            {
                failures.Add($"{hostile.Name}: {failure}");
            }
        }

        output.WriteLine($"{batch}: {cases.Count} cases, statuses {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}, slowest error answer {slowest.TotalMilliseconds:F0} ms");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        await AssertHealthyAsync(server.Client);
    }

    private async Task<(int Status, string? MediaType, string Body, TimeSpan Elapsed)> SendAsync(HostileCase hostile)
    {
        var watch = Stopwatch.StartNew();
        using var response = await server.Client.SendAsync(ToRequest(hostile));
        var body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, watch.Elapsed);
    }

    internal static HttpRequestMessage ToRequest(HostileCase hostile)
    {
        var request = new HttpRequestMessage(new HttpMethod(hostile.Method), hostile.Path);
        if (hostile.Method != "GET")
        {
            HttpContent content = hostile.Chunked
                ? new StreamContent(new UnseekableStream(hostile.Body))
                : new ByteArrayContent(hostile.Body);
            if (hostile.ContentType is { } type)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
            request.Content = content;
            if (hostile.Chunked)
            {
                request.Headers.TransferEncodingChunked = true;
            }
        }
        return request;
    }

    /// <summary>Health, then a normal prediction that must succeed.</summary>
    internal static async Task AssertHealthyAsync(HttpClient client)
    {
        using var live = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var created = await Wire.CreatedAsync(client, Wire.Input(), prefer: "wait=30");
        var done = created.Status() == "succeeded" ? created : await Wire.WaitDoneAsync(client, created.Id());
        Assert.Equal("succeeded", done.Status());
    }

    /// <summary>A stream with no length, so the client sends it chunked.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public override bool CanSeek => false;
    }
}
