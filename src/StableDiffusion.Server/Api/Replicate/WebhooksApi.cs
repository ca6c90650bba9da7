using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>The webhook signing secret, where Replicate's clients look for it.</summary>
internal static class WebhooksApi
{
    /// <summary>Replicate's secret object.</summary>
    public sealed record WebhookSecret([property: JsonPropertyName("key")] string Key);

    public static RouteGroupBuilder MapWebhooks(this RouteGroupBuilder v1)
    {
        v1.MapGet("/webhooks/default/secret", GetWebhookSecret)
            .WithName("GetWebhookSecret")
            .WithTags("Webhooks")
            .WithResponseExample(StatusCodes.Status200OK, ReplicateExamples.WebhookSecret)
            .WithSummary("Get the webhook signing secret")
            .WithDescription("Deliveries carry webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 of \"id.timestamp.body\"), as Replicate's; verify with the replicate client's validateWebhook.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        return v1;
    }

    public static Ok<WebhookSecret> GetWebhookSecret([AsParameters] ReplicateServices services)
        => TypedResults.Ok(new WebhookSecret(services.Signer.Secret));
}
