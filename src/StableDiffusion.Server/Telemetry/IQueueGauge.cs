namespace StableDiffusion.Server.Telemetry;

/// <summary>What the queue gauges read: the in-process channel, or a shared backend's queue.</summary>
internal interface IQueueGauge
{
    /// <summary>Jobs waiting for a worker.</summary>
    int Depth { get; }

    int Capacity { get; }
}
