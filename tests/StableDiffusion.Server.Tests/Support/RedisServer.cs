using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>
/// A real <c>redis-server</c> process on a free loopback port (never 6379), with AOF on and fsync'd on every write,
/// in a temporary directory it owns. <see cref="Kill"/> is <c>kill -9</c>; <see cref="RestartAsync"/> starts a new
/// process on the same port and directory, so what the AOF kept is what the tests see. Fault tests reuse it.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private Process? _process;

    private RedisServer(string executable, string directory, int port)
    {
        Executable = executable;
        Directory = directory;
        Port = port;
    }

    /// <summary>Why Redis tests cannot run here (no <c>redis-server</c>), or null when they can.</summary>
    public static string? MissingReason => FindExecutable() is null
        ? "redis-server is not installed (Debian: apt-get install redis-server); CI installs it and fails without it"
        : null;

    /// <summary>True in CI (<c>CI=true</c>), where a missing component fails the test instead of skipping it.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public string Executable { get; }

    /// <summary>The data directory: <c>appendonlydir/</c> and <c>redis.log</c> live here.</summary>
    public string Directory { get; }

    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string; <c>abortConnect=false</c> lets clients ride out a restart.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=5000";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a fresh server; throws (with the reason) when <c>redis-server</c> is missing or does not come up.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var executable = FindExecutable() ?? throw new InvalidOperationException(MissingReason);
        var directory = Path.Combine(Path.GetTempPath(), "sd-redis-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var server = new RedisServer(executable, directory, FreePort());
        await server.LaunchAsync();
        return server;
    }

    /// <summary><c>kill -9</c>: no shutdown save, no goodbye to clients. Only what the AOF already fsync'd survives.</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(); // SIGKILL on Unix
            }
            process.WaitForExit();
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Kills the server if it runs, then starts it again on the same port and directory (AOF replayed).</summary>
    public async Task RestartAsync()
    {
        Kill();
        await LaunchAsync();
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing a test over it is not.
        }
        return ValueTask.CompletedTask;
    }

    private async Task LaunchAsync()
    {
        var start = new ProcessStartInfo(Executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--dir", Directory,
            "--appendonly", "yes",
            // Every write is on disk before the client hears OK: a kill -9 loses nothing acknowledged.
            "--appendfsync", "always",
            // No RDB snapshots: restarts must prove the AOF alone carries the data.
            "--save", "",
            "--daemonize", "no",
            "--logfile", Path.Combine(Directory, "redis.log"),
        })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Executable}");
        // Drain the pipes so the server never blocks on a full one (it logs to its file anyway).
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitUntilReadyAsync(process);
    }

    /// <summary>Waits for <c>PING</c> to answer <c>PONG</c> (not <c>LOADING</c>: the AOF is replayed by then).</summary>
    private async Task WaitUntilReadyAsync(Process process)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {process.ExitCode} on port {Port}: {LogTail()}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }
            catch (IOException)
            {
                // Closed on us while starting.
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"redis-server did not answer PING on port {Port} within {ReadyTimeout.TotalSeconds} s: {LogTail()}");
    }

    private string LogTail()
    {
        var log = Path.Combine(Directory, "redis.log");
        return File.Exists(log) ? string.Join('\n', File.ReadAllLines(log).TakeLast(10)) : "(no log)";
    }

    private static int FreePort()
    {
        // Port 0 asks the kernel for a free one; 6379 is never handed out from the ephemeral range, and we check anyway.
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port != 6379)
            {
                return port;
            }
        }
    }

    private static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin").Append("/usr/local/bin")
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>A fact that needs <c>redis-server</c>: skipped with the reason when it is missing, except in CI where it fails.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (!RedisServer.IsCi && RedisServer.MissingReason is { } reason)
        {
            Skip = reason;
        }
    }
}
