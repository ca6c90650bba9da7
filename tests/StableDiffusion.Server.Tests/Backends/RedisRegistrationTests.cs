using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StableDiffusion.Server.Backends.Redis;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;
using StackExchange.Redis;

namespace StableDiffusion.Server.Tests.Backends;

public sealed class RedisRegistrationTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [RedisFact]
    public async Task The_ports_resolve_to_the_redis_adapters_on_one_connection()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Backend"] = "Redis",
            ["Storage:Redis"] = redis.Server.ConnectionString,
            ["Storage:RedisPrefix"] = "reg:",
            ["Queue:Capacity"] = "7",
        }).Build());
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations();
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section);
        services.AddOptions<ResultsOptions>().BindConfiguration(ResultsOptions.Section);
        services.AddRedisBackend();
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IPredictionStore>();
        var queue = provider.GetRequiredService<IJobQueue>();

        Assert.IsType<RedisPredictionStore>(store);
        Assert.Same(provider.GetRequiredService<RedisJobQueue>(), queue);
        Assert.IsType<RedisEventBus>(provider.GetRequiredService<IJobEventBus>());
        Assert.NotNull(provider.GetRequiredService<RedisModelRegistry>());
        Assert.Equal(7, queue.Capacity);
        Assert.Equal(1, await store.NextSequenceAsync());
        Assert.Equal("1", (string?)await provider.GetRequiredService<IConnectionMultiplexer>().GetDatabase().StringGetAsync("reg:seq"));
    }
}
