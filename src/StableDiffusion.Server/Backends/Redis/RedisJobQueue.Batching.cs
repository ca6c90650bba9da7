using StableDiffusion.Server.Jobs;
using StackExchange.Redis;

namespace StableDiffusion.Server.Backends.Redis;

/// <summary>Dynamic batching on the stream: entries carry their <see cref="JobBatchKey"/> and image count.</summary>
internal sealed partial class RedisJobQueue
{
    // Dynamic batching: claims the entries right after the group's last delivered one while they carry the batch key
    // and fit the images left, so a batch never overtakes an older job of another kind. KEYS: stream. ARGV: group,
    // consumer, batch key, images left. Returns {entry id, job id, …}.
    private const string ClaimCompatibleScript = """
        if ARGV[3] == '' then return {} end
        local last
        for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
          local f = {}
          for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
          if f['name'] == ARGV[1] then last = f['last-delivered-id'] end
        end
        if not last then return {} end
        local left = tonumber(ARGV[4])
        local n = 0
        for _, e in ipairs(redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', left)) do
          local f = {}
          for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
          local images = tonumber(f['images'] or '0') or 0
          if f['batch'] ~= ARGV[3] or images < 1 or images > left then break end
          left = left - images
          n = n + 1
        end
        if n == 0 then return {} end
        local result = {}
        for _, e in ipairs(redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', n, 'STREAMS', KEYS[1], '>')[1][2]) do
          local job = ''
          for i = 1, #e[2], 2 do if e[2][i] == 'job' then job = e[2][i + 1] end end
          table.insert(result, e[1])
          table.insert(result, job)
        end
        return result
        """;

    /// <summary>Claims the jobs queued right behind the last claimed one while they share <paramref name="batchKey"/>
    /// and fit in <paramref name="imagesLeft"/> images (dynamic batching); none when the next one does not.</summary>
    public async Task<IReadOnlyList<RedisClaim>> ClaimCompatibleAsync(string consumer, string batchKey, int imagesLeft, CancellationToken cancellationToken = default)
    {
        var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(ClaimCompatibleScript, [_keys.Queue],
            [Group, consumer, batchKey, imagesLeft]).ConfigureAwait(false))!;
        var claims = new List<RedisClaim>(result.Length / 2);
        for (var i = 0; i + 1 < result.Length; i += 2)
        {
            claims.Add(Hold(consumer, new RedisClaim((string)result[i + 1]!, (string)result[i]!, DeliveryCount: 1)));
        }
        return claims;
    }
}
