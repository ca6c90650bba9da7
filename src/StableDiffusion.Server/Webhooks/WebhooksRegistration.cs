using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Webhooks;

/// <summary>Registers webhook delivery: the sender (a job listener), the signer and the guarded HTTP client.</summary>
internal static class WebhooksRegistration
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<IJobListener>(sp => sp.GetRequiredService<WebhookSender>());
        services.AddSingleton<WebhookSigner>();
        services.AddHostedService<WebhookDrain>();
        services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false, // a redirect could point inside the network after the check
                UseProxy = false,          // the connect callback must see the real destination
                ConnectCallback = WebhookTargetGuard.ConnectCallback(sp.GetRequiredService<IOptionsMonitor<WebhookOptions>>()),
            });
        return services;
    }
}
