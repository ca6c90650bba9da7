using System.Text.Json;
using Microsoft.Extensions.Options;
using StableDiffusion.Core.Models;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StackExchange.Redis;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// What the workers' models are (name, kind, native size, tasks), published into one hash so that an <c>api</c>
/// replica can validate requests and describe models without loading any ONNX session.
/// </summary>
internal sealed class RedisModelRegistry(IConnectionMultiplexer redis, IOptions<StorageOptions> storage)
{
    private readonly RedisKeys _keys = new(storage.Value.RedisPrefix);

    /// <summary>A worker announces a model it has loaded (the latest worker to load a name wins).</summary>
    public async Task PublishAsync(ModelInfo model, CancellationToken cancellationToken = default)
        => await redis.GetDatabase().HashSetAsync(_keys.Models, model.Name, JsonSerializer.SerializeToUtf8Bytes(model, JobRecord.Json)).ConfigureAwait(false);

    /// <summary>Every model any worker has published, by name.</summary>
    public async Task<IReadOnlyList<ModelInfo>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var entries = await redis.GetDatabase().HashGetAllAsync(_keys.Models).ConfigureAwait(false);
        return entries
            .Select(e => JsonSerializer.Deserialize<ModelInfo>((byte[])e.Value!, JobRecord.Json) ?? throw new JsonException($"empty model entry {e.Name}"))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>Forgets a model no worker serves any more.</summary>
    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
        => await redis.GetDatabase().HashDeleteAsync(_keys.Models, name).ConfigureAwait(false);
}
