namespace StableDiffusion.Server.Webhooks;

/// <summary>
/// Stops after the workers (it is registered before them): waits for the webhooks of every transition, the shutdown's
/// own included, within the host's shutdown timeout.
/// </summary>
internal sealed class WebhookDrain(WebhookSender sender) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await sender.DrainAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
