using System.Text.Json;
using StableDiffusion.Server.Generation;

namespace StableDiffusion.Server.Jobs;

/// <summary>What an API surface hands to <see cref="JobDispatcher.Submit"/>.</summary>
internal sealed record JobSubmission(GenerationRequest Request, JsonElement Input)
{
    public bool OutputAsDataUri { get; init; }
    public Uri? Webhook { get; init; }
    public required string BaseUrl { get; init; }
    /// <summary>The API key's owner id (see ApiKeyFilter.OwnerOf); null without keys.</summary>
    public string? Owner { get; init; }
    public IReadOnlySet<string> WebhookEvents { get; init; } = new HashSet<string>();
}

/// <summary>Why a submission was not queued.</summary>
internal enum SubmitRejection
{
    None,
    QueueFull,
    ShuttingDown,
}
