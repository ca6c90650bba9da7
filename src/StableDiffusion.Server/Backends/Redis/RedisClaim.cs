namespace StableDiffusion.Server.Backends.Redis;

/// <summary>
/// A job a worker holds: its stream entry and how many times the entry has been handed out (1 for the first claim,
/// +1 each time a stale claim is taken over).
/// </summary>
internal sealed record RedisClaim(string JobId, string EntryId, long DeliveryCount);
