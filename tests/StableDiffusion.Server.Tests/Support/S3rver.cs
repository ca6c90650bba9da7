using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>
/// A real S3 endpoint: npm's <c>s3rver</c> 3.7.1 (pinned in tests/StableDiffusion.Server.Tests/Outputs/s3rver) in a
/// node process on a free loopback port, storing objects in a temporary folder. It accepts any SigV4 signature made
/// with its built-in key pair <see cref="AccessKey"/>/<see cref="SecretKey"/> without checking it, so tests that care
/// about signatures check them themselves.
/// </summary>
public sealed class S3rver : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string _directory;

    private S3rver(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>The package folder (package.json + package-lock.json; <c>npm ci</c> fills node_modules).</summary>
    public static string PackageDirectory => Path.Combine(RepositoryRoot(), "tests", "StableDiffusion.Server.Tests", "Outputs", "s3rver");

    private static string Script => Path.Combine(PackageDirectory, "node_modules", "s3rver", "bin", "s3rver.js");

    /// <summary>Why S3 tests cannot run here, or null when they can (node found; s3rver installed or npm to install it).</summary>
    public static string? MissingReason
    {
        get
        {
            if (Which("node") is null)
            {
                return "node is not installed; the S3 tests run against npm's s3rver";
            }
            if (!File.Exists(Script) && Which("npm") is null)
            {
                return $"s3rver is not installed (npm ci in {PackageDirectory}) and npm is missing";
            }
            return null;
        }
    }

    public static async Task<S3rver> StartAsync()
    {
        var node = Which("node") ?? throw new InvalidOperationException(MissingReason);
        if (!File.Exists(Script))
        {
            await InstallAsync();
        }
        var directory = Path.Combine(Path.GetTempPath(), "sd-s3rver-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var start = new ProcessStartInfo(node)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { Script, "--directory", directory, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new S3rver(process, directory, port);
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"s3rver exited with {process.ExitCode}: {string.Join('\n', output)}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
        return ValueTask.CompletedTask;
    }

    /// <summary><c>npm ci</c> from the lock file (CI runs it before the tests; this covers a developer's first run).</summary>
    private static async Task InstallAsync()
    {
        var npm = Which("npm") ?? throw new InvalidOperationException(MissingReason);
        var start = new ProcessStartInfo(npm, ["ci", "--no-audit", "--no-fund"])
        {
            WorkingDirectory = PackageDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start npm");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || !File.Exists(Script))
        {
            throw new InvalidOperationException($"npm ci in {PackageDirectory} failed ({process.ExitCode}): {await stdout}{await stderr}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Which(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StableDiffusion.Server.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("StableDiffusion.Server.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that needs node and s3rver: skipped with the reason when missing, except in CI where it fails.</summary>
public sealed class S3rverFactAttribute : FactAttribute
{
    public S3rverFactAttribute()
    {
        if (!RedisServer.IsCi && S3rver.MissingReason is { } reason)
        {
            Skip = reason;
        }
    }
}
