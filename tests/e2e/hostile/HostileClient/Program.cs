using System.Diagnostics;
using System.Text;
using StableDiffusion.E2E.Hostile;
using StableDiffusion.Tests.Shared;

// Usage: HostileClient suite <port> <server pid>     every generated case + raw HTTP abuse, health after each batch,
//                                                     the server's memory before and after
//        HostileClient fuzz <port> <seconds> <seed>  random mutations of valid requests over all three surfaces
// Prints "N passed, N failed" last (tests/run-all.sh counts it) and exits non-zero on any failure.
const string Host = "127.0.0.1";
var maxErrorTime = TimeSpan.FromSeconds(1);
var timeout = TimeSpan.FromSeconds(90);
int port = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
int passed = 0, failed = 0;

return args[0] switch
{
    "suite" => await SuiteAsync(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)),
    "fuzz" => await FuzzAsync(TimeSpan.FromSeconds(double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture)),
    _ => 2,
};

async Task<int> SuiteAsync(int pid)
{
    await HealthyAsync("warm-up");
    long before = Memory(pid, "VmRSS:");
    Console.WriteLine($"server RSS before: {before / 1024} MB");
    var watch = Stopwatch.StartNew();
    int cases = 0;
    foreach (var (batch, list) in HostileRequests.Batches().Append(("raw http", RawCases().ToList())))
    {
        var statuses = new SortedDictionary<int, int>();
        var slowest = TimeSpan.Zero;
        foreach (var hostile in list)
        {
            var bytes = hostile.Method == "RAW"
                ? hostile.Body
                : RawHttp.Request(hostile.Method, hostile.Path, $"{Host}:{port}", hostile.ContentType, hostile.Body, hostile.Chunked);
            var answer = await SendTwiceIfSlowAsync(bytes, hostile.Name.StartsWith("truncated", StringComparison.Ordinal));
            cases++;
            statuses[answer.Status] = statuses.GetValueOrDefault(answer.Status) + 1;
            if (answer.Status >= 300)
            {
                slowest = answer.Elapsed > slowest ? answer.Elapsed : slowest;
            }
            string? failure = hostile.Method == "RAW"
                // Protocol abuse: Kestrel's 400/413/414/431, or closing the connection, are deliberate answers; a 5xx or
                // no answer within the timeout is not.
                ? answer.Status >= 500 || answer.Status < 0 ? $"{answer.Status}: {answer.Body}" : answer.Elapsed > maxErrorTime ? $"took {answer.Elapsed.TotalMilliseconds:F0} ms" : null
                : answer.Status <= 0 ? $"no HTTP answer ({answer.Body})"
                : HostileAnswers.Check(hostile, answer.Status, answer.MediaType, answer.Body, answer.Elapsed, maxErrorTime);
            Record(hostile.Name, failure);
        }
        Console.WriteLine($"{batch}: {list.Count} cases, statuses {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}, slowest error answer {slowest.TotalMilliseconds:F0} ms");
        await HealthyAsync(batch);
    }
    long after = Memory(pid, "VmRSS:");
    long peak = Memory(pid, "VmHWM:");
    Console.WriteLine($"{cases} cases in {watch.Elapsed.TotalSeconds:F0} s; server RSS before {before / 1024} MB, after {after / 1024} MB, peak {peak / 1024} MB");
    // The bound stated in the README: what the suite leaves behind is the GC's retained heap, not the inputs.
    Record("memory after the suite within 384 MB of before", after - before <= 384 * 1024 ? null : $"grew by {(after - before) / 1024} MB");
    Record("peak memory under 2 GB", peak <= 2048 * 1024 ? null : $"peak {peak / 1024} MB");
    return Finish();
}

async Task<int> FuzzAsync(TimeSpan duration, int seed)
{
    var random = new Random(seed);
    var endpoints = HostileRequests.JsonEndpoints;
    var pool = HostileRequests.ValuePool;
    string[] contentTypes = ["application/json", "application/json", "application/json", "application/json; charset=utf-8", "text/plain", null!, "application/x-www-form-urlencoded"];
    var statuses = new SortedDictionary<int, int>();
    var errorTimes = new List<double>();
    var watch = Stopwatch.StartNew();
    int requests = 0;
    while (watch.Elapsed < duration)
    {
        var endpoint = endpoints[random.Next(endpoints.Count)];
        var fields = endpoint.Fields.Select(f => (f.Path, Encoding.UTF8.GetBytes(f.Json))).ToList();
        int edits = 1 + random.Next(3);
        for (int i = 0; i < edits; i++)
        {
            int at = random.Next(fields.Count);
            fields[at] = random.Next(4) switch
            {
                0 => (fields[at].Path, pool[random.Next(pool.Count)]),
                1 => (fields[at].Path, RandomScalar(random)),
                2 => ($"{fields[at].Path}x", fields[at].Item2),
                _ => (fields[at].Path, Encoding.UTF8.GetBytes($"[{Encoding.UTF8.GetString(fields[at].Item2)}]")),
            };
        }
        var body = HostileRequests.Compose(fields);
        if (random.Next(3) == 0)
        {
            body = MutateBytes(body, random);
        }
        var contentType = contentTypes[random.Next(contentTypes.Length)];
        var request = RawHttp.Request("POST", endpoint.Path, $"{Host}:{port}", contentType, body, chunked: random.Next(4) == 0);
        var answer = await SendTwiceIfSlowAsync(request, halfClose: false);
        requests++;
        statuses[answer.Status] = statuses.GetValueOrDefault(answer.Status) + 1;
        var hostile = new HostileCase($"fuzz #{requests} {endpoint.Path}", "POST", endpoint.Path, contentType, body, endpoint.Surface);
        string? failure = answer.Status <= 0 ? $"no HTTP answer ({answer.Body})" : HostileAnswers.Check(hostile, answer.Status, answer.MediaType, answer.Body, answer.Elapsed, maxErrorTime);
        if (answer.Status >= 300)
        {
            errorTimes.Add(answer.Elapsed.TotalMilliseconds);
        }
        if (failure is not null)
        {
            Record(hostile.Name, $"{failure}\n    body: {Convert.ToBase64String(body[..Math.Min(body.Length, 600)])}");
        }
        else
        {
            passed++;
        }
        if (requests % 250 == 0)
        {
            await HealthyAsync($"fuzz after {requests}");
        }
    }
    await HealthyAsync("fuzz end");
    errorTimes.Sort();
    Console.WriteLine($"fuzz: {requests} requests in {watch.Elapsed.TotalSeconds:F0} s (seed {seed}), statuses {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}, "
        + $"error answers p50 {Percentile(errorTimes, 0.5):F0} ms, p99 {Percentile(errorTimes, 0.99):F0} ms, max {Percentile(errorTimes, 1):F0} ms");
    return Finish();
}

// An error answer slower than the limit is sent once more: a slow answer the input causes comes back slow, one the
// machine causes (a GC, the worker's job, another process on the 2 shared cores) does not. The second time counts.
async Task<RawAnswer> SendTwiceIfSlowAsync(byte[] request, bool halfClose)
{
    var answer = await RawHttp.SendAsync(Host, port, request, timeout, halfClose);
    if (answer.Status >= 300 && answer.Elapsed > maxErrorTime)
    {
        var again = await RawHttp.SendAsync(Host, port, request, timeout, halfClose);
        Console.WriteLine($"slow answer ({answer.Status} in {answer.Elapsed.TotalMilliseconds:F0} ms) sent again: {again.Status} in {again.Elapsed.TotalMilliseconds:F0} ms");
        return again;
    }
    return answer;
}

static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

static byte[] RandomScalar(Random random) => random.Next(6) switch
{
    0 => Encoding.ASCII.GetBytes((random.NextDouble() * Math.Pow(10, random.Next(-5, 30)) * (random.Next(2) == 0 ? -1 : 1)).ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
    1 => Encoding.ASCII.GetBytes(random.NextInt64(long.MinValue, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture)),
    2 => Encoding.ASCII.GetBytes($"\"{random.Next(0, 2000)}x{random.Next(0, 2000)}\""),
    3 => Encoding.ASCII.GetBytes("\"" + string.Concat(Enumerable.Range(0, random.Next(1, 8)).Select(_ => $"\\u{random.Next(0, 0x10000):x4}")) + "\""),
    4 => Encoding.ASCII.GetBytes(random.Next(-3, 200).ToString(System.Globalization.CultureInfo.InvariantCulture)),
    _ => Encoding.UTF8.GetBytes("\"" + new string((char)random.Next(0x20, 0xD7FF), random.Next(0, 3000)) + "\""),
};

static byte[] MutateBytes(byte[] body, Random random)
{
    var bytes = new List<byte>(body);
    for (int i = 0, n = 1 + random.Next(6); i < n && bytes.Count > 1; i++)
    {
        int at = random.Next(bytes.Count);
        switch (random.Next(5))
        {
            case 0: bytes[at] = (byte)random.Next(256); break;
            case 1: bytes.Insert(at, "{}[]\",:\\"u8[random.Next(8)]); break;
            case 2: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8))); break;
            case 3: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, 1 + random.Next(32)))); break;
            default: bytes.RemoveRange(at, bytes.Count - at); break;
        }
    }
    return [.. bytes];
}

async Task HealthyAsync(string after)
{
    var live = await RawHttp.SendAsync(Host, port, RawHttp.Request("GET", "/health/live", $"{Host}:{port}", null, [], false), timeout);
    Record($"after '{after}': /health/live", live.Status == 200 ? null : $"{live.Status}: {live.Body}");
    var normal = await RawHttp.SendAsync(Host, port, RawHttp.Request("POST", "/v1/predictions", $"{Host}:{port}", "application/json",
        """{"input":{"prompt":"a red fox","width":64,"height":64,"num_inference_steps":2,"seed":1}}"""u8.ToArray(), false, ["Prefer: wait=60"]), timeout);
    Record($"after '{after}': a normal prediction succeeds", normal.Status == 201 && normal.Body.Contains("\"succeeded\"", StringComparison.Ordinal) ? null : $"{normal.Status}: {normal.Body}");
}

void Record(string name, string? failure)
{
    if (failure is null)
    {
        passed++;
        return;
    }
    failed++;
    Console.WriteLine($"FAIL {name}: {failure}");
}

int Finish()
{
    Console.WriteLine($"{passed} passed, {failed} failed");
    return failed == 0 ? 0 : 1;
}

static long Memory(int pid, string key)
{
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
    {
        if (line.StartsWith(key, StringComparison.Ordinal))
        {
            return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
    }
    return 0;
}

// HTTP-level abuse only a raw socket can send; any answer below 500 (or Kestrel closing the connection) is fine.
IEnumerable<HostileCase> RawCases()
{
    string host = $"Host: {Host}:{port}";
    HostileCase Raw(string name, string text) => new(name, "RAW", "", null, Encoding.Latin1.GetBytes(text), "native");
    HostileCase RawBytes(string name, byte[] bytes) => new(name, "RAW", "", null, bytes, "native");
    yield return Raw("garbage", "GARBAGE\r\n\r\n");
    yield return Raw("http/0.9", "GET /\r\n\r\n");
    yield return Raw("no host", "GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n");
    yield return Raw("absolute form", $"GET http://evil.example/v1/models HTTP/1.1\r\n{host}\r\nConnection: close\r\n\r\n");
    yield return Raw("nul in path", $"GET /v1/predictions/\0 HTTP/1.1\r\n{host}\r\nConnection: close\r\n\r\n");
    yield return Raw("%00 in path", $"GET /v1/predictions/%00 HTTP/1.1\r\n{host}\r\nConnection: close\r\n\r\n");
    yield return Raw("%00 in query", $"GET /v1/predictions?cursor=%00 HTTP/1.1\r\n{host}\r\nConnection: close\r\n\r\n");
    yield return RawBytes("0xFF in path", [.. "GET /v1/files/"u8, 0xFF, 0xFE, .. Encoding.ASCII.GetBytes($" HTTP/1.1\r\n{host}\r\nConnection: close\r\n\r\n")]);
    yield return Raw("100 KB url", $"GET /v1/predictions/{new string('a', 100_000)} HTTP/1.1\r\n{host}\r\nConnection: close\r\n\r\n");
    yield return Raw("100 KB header", $"GET /v1/models HTTP/1.1\r\n{host}\r\nX-Big: {new string('a', 100_000)}\r\nConnection: close\r\n\r\n");
    yield return Raw("2000 headers", $"GET /v1/models HTTP/1.1\r\n{host}\r\n{string.Concat(Enumerable.Range(0, 2000).Select(i => $"X-H{i}: v\r\n"))}Connection: close\r\n\r\n");
    yield return Raw("bare LF", $"GET /v1/models HTTP/1.1\n{host}\nConnection: close\n\n");
    yield return Raw("negative length", $"POST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n{{}}");
    yield return Raw("length not a number", $"POST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{{}}");
    yield return Raw("two lengths", $"POST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{{}}");
    yield return Raw("length and chunked", $"POST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n");
    yield return Raw("bad chunk size", $"POST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n");
    yield return Raw("huge chunk size", $"POST /sdapi/v1/txt2img HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nffffffffffffffff\r\n{{}}\r\n0\r\n\r\n");
    yield return Raw("truncated: " + "chunked without last chunk", $"POST /v1/images/generations HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{{}}\r\n");
    yield return Raw("truncated: " + "body shorter than its length", $"POST /sdapi/v1/options HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"a\":1}}");
    yield return Raw("truncated: " + "multipart shorter than its length", $"POST /v1/files HTTP/1.1\r\n{host}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a\"\r\n\r\nabc");
    yield return Raw("expect 100-continue over the limit", $"POST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
    yield return Raw("unknown method", $"BREW /v1/predictions HTTP/1.1\r\n{host}\r\nConnection: close\r\n\r\n");
    yield return Raw("pipelined", $"GET /v1/models HTTP/1.1\r\n{host}\r\n\r\nPOST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{{\"x\":\"\\ud800\"}}");
    yield return Raw("http/2 preface on http/1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    yield return Raw("header with NUL", $"GET /v1/models HTTP/1.1\r\n{host}\r\nX-A: a\0b\r\nConnection: close\r\n\r\n");
    yield return Raw("prefer wait huge", $"POST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nPrefer: wait=99999999999999999999\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{{\"input\":1}}");
    yield return Raw("prefer garbage", $"POST /v1/predictions HTTP/1.1\r\n{host}\r\nContent-Type: application/json\r\nPrefer: wait=-1, wait=abc, \u00ff\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{{\"input\":1}}");
    yield return Raw("authorization garbage", $"GET /sdapi/v1/options HTTP/1.1\r\n{host}\r\nAuthorization: Basic !!!notbase64\r\nConnection: close\r\n\r\n");
    yield return Raw("forwarded garbage", $"GET /v1/models HTTP/1.1\r\n{host}\r\nX-Forwarded-For: ::::, 999.1.1.1\r\nX-Forwarded-Host: \u00ff\u00fe\r\nX-Forwarded-Prefix: ../..\r\nConnection: close\r\n\r\n");
}
