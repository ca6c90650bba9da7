using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>
/// The server as a real process (<c>dotnet StableDiffusion.Server.dll</c> from this test run's output), for fault
/// tests that kill it: <see cref="Kill"/> is <c>kill -9</c>, <see cref="TerminateAsync"/> is SIGTERM.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
    }

    public int Port { get; }

    public HttpClient Client { get; }

    /// <summary>What the process printed (for assertion messages).</summary>
    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    /// <summary>Starts a server with the tiny model and <paramref name="settings"/> (configuration keys), and waits until
    /// <paramref name="readyPath"/> answers 200.</summary>
    /// <summary>Starts without waiting for readiness (several at once); see <see cref="WaitReadyAsync"/>.</summary>
    public static ServerProcess Launch(Dictionary<string, string> settings, bool demoModel)
        => StartAsync(settings, readyPath: null, demoModel: demoModel).GetAwaiter().GetResult();

    public static async Task<ServerProcess> StartAsync(Dictionary<string, string> settings, string? readyPath = "/health/ready", int? port = null,
        bool demoModel = false)
    {
        var chosen = port ?? FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "StableDiffusion.Server.dll"));
        var all = new Dictionary<string, string>
        {
            ["Urls"] = $"http://127.0.0.1:{chosen}",
            ["Models:ExecutionProvider"] = "cpu",
            ["Models:IntraOpThreads"] = "1",
            ["RateLimits:Enabled"] = "false",
            ["Limits:MaxSteps"] = "999",
        };
        if (!demoModel)
        {
            all["Models:Items:0:Name"] = "tiny";
            all["Models:Items:0:Owner"] = "test";
            all["Models:Items:0:Path"] = TinyModel.Path;
        }
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        foreach (var (key, value) in all)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var server = new ServerProcess(Process.Start(start)!, chosen);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        if (readyPath is not null)
        {
            await server.WaitReadyAsync(readyPath);
        }
        return server;
    }

    /// <summary><c>kill -9</c>: no shutdown code runs.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, then waits for the process to exit (what a container runtime or systemd does).</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
        }
        Client.Dispose();
        _process.Dispose();
        await Task.CompletedTask;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async Task WaitReadyAsync(string path = "/health/ready")
    {
        // A safety net for a slow machine, not a timing assertion.
        var until = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await Client.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the server did not become ready:\n{Output}");
    }
}
