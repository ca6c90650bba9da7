using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Webhooks;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>What the native (Replicate-compatible) handlers use, bound with <c>[AsParameters]</c> from the services.</summary>
internal sealed record ReplicateServices(
    GenerationRequestValidator Validator,
    JobDispatcher Dispatcher,
    JobStore Store,
    GenerationQueue Queue,
    ModelCatalog Catalog,
    WebhookSigner Signer,
    Outputs.FileUrlSigner FileSigner,
    IOptions<LimitsOptions> Limits,
    IOptions<QueueOptions> QueueOptions,
    IOptions<ResultsOptions> Results,
    IOptionsMonitor<WebhookOptions> Webhooks,
    IOptionsMonitor<AuthOptions> Auth,
    TimeProvider Time)
{
    /// <summary>The caller's API key owner (null without keys).</summary>
    public string? OwnerOf(HttpRequest request) => ApiKeyFilter.OwnerOf(request, Auth.CurrentValue.ApiKeys);

    /// <summary>The job, when it exists and the caller's key created it (another key's prediction is a 404, as on Replicate).</summary>
    public async Task<Job?> VisibleAsync(string id, HttpRequest request)
        => await Store.FindAsync(id) is { } job && job.Owner == OwnerOf(request) ? job : null;
}
