namespace StableDiffusion.Synthetic;

/// <summary>The running total of model-file bytes a build has written, reported after each write (a full-size preset
/// writes gigabytes for minutes: <c>sd make-model</c> shows this as its progress).</summary>
internal sealed class WriteProgress(IProgress<long>? progress)
{
    public long Total { get; private set; }

    public void Add(long bytes)
    {
        Total += bytes;
        progress?.Report(Total);
    }
}
