using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Worker;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>The real host with the tiny synthetic model on CPU; tests add or override settings.</summary>
public sealed class ServerFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    /// <param name="dataDirectory">An existing data directory (a restart of an earlier server); the caller deletes it.</param>
    public ServerFactory(Dictionary<string, string?>? settings = null, bool tinyModel = true, string? dataDirectory = null)
    {
        _ownsData = dataDirectory is null;
        DataDirectory = dataDirectory ?? Directory.CreateTempSubdirectory("sd-server-test-").FullName;
        _settings = new Dictionary<string, string?>
        {
            ["Models:ExecutionProvider"] = "cpu",
            ["Models:IntraOpThreads"] = "1",
            ["RateLimits:Enabled"] = "false",
            ["Limits:MaxSteps"] = "999", // the slow job (Wire.SlowInput)
            ["Serilog:MinimumLevel:Default"] = "Warning",
            // Each server its own embedded database and files (deleted with the factory).
            ["Storage:DataDirectory"] = DataDirectory,
        };
        if (tinyModel)
        {
            _settings["Models:Items:0:Name"] = "tiny";
            _settings["Models:Items:0:Owner"] = "test";
            _settings["Models:Items:0:Path"] = TinyModel.Path;
        }
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
    }

    /// <summary>The embedded backend's directory; a second factory given the same one is a restart.</summary>
    public string DataDirectory { get; }

    private readonly bool _ownsData;

    /// <summary>Keeps the data directory after disposal (for a restart on it); the test deletes it.</summary>
    public bool KeepData { get; init; }

    /// <summary>Replaces the server's clock (deadline and retention tests).</summary>
    public ShiftedTime? Time { get; init; }

    /// <summary>Last changes to the server's services (a test's wrapper around a port).</summary>
    internal Action<IServiceCollection>? ConfigureServices { get; init; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IJobListener>(Events);
            if (Time is { } time)
            {
                services.AddSingleton<TimeProvider>(time);
            }
            ConfigureServices?.Invoke(services);
        });
    }

    /// <summary>Every job event, to wait on (see <see cref="JobEventRecorder"/>).</summary>
    internal JobEventRecorder Events { get; } = new();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!_ownsData || KeepData)
        {
            return;
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A client once every worker has loaded its models (polls; no fixed sleep).</summary>
    public async Task<HttpClient> ReadyClientAsync()
    {
        var client = CreateClient();
        var workers = Services.GetServices<IHostedService>().OfType<GenerationWorker>().ToArray();
        var until = DateTime.UtcNow.AddMinutes(2);
        while (workers.Any(w => w.State == WorkerState.Loading))
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException("workers did not finish loading");
            }
            await Task.Delay(20);
        }
        return client;
    }
}
