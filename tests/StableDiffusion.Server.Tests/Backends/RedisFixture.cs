using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Tests.Support;
using StackExchange.Redis;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>
/// One real Redis per test class; each test takes its own key prefix, so tests never see each other's keys and no
/// test needs FLUSHALL.
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;
    private ConnectionMultiplexer? _connection;

    public RedisServer Server => _server ?? throw new InvalidOperationException(RedisServer.MissingReason ?? "Redis is not started");

    public IConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("Redis is not started");

    public async Task InitializeAsync()
    {
        if (RedisServer.MissingReason is not null && !RedisServer.IsCi)
        {
            return; // every test here is a [RedisFact] and skips with the reason
        }
        _server = await RedisServer.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Options with a prefix no other test uses.</summary>
    internal static IOptions<StorageOptions> Storage(int heartbeatSeconds = 5) => Options.Create(new StorageOptions
    {
        Backend = StorageBackend.Redis,
        RedisPrefix = "t" + Guid.NewGuid().ToString("N")[..10] + ":",
        HeartbeatSeconds = heartbeatSeconds,
    });
}
