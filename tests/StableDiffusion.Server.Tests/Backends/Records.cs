using System.Text.Json;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>Job records as the server stores them, for the backend contract tests.</summary>
internal static class Records
{
    public static JobRecord New(long sequence, string? owner = null, DateTimeOffset? createdAt = null)
    {
        var created = createdAt ?? DateTimeOffset.UtcNow;
        return new JobRecord
        {
            Id = Ids.New(),
            Sequence = sequence,
            Model = "demo-random-weights",
            Request = new GenerationRequest { Model = "demo-random-weights", Settings = new() { Prompt = "a lighthouse", Seed = 42 }, Width = 64, Height = 64 },
            Input = JsonDocument.Parse("""{"prompt":"a lighthouse","width":64}""").RootElement.Clone(),
            CreatedAt = created,
            Deadline = created.AddMinutes(10),
            Owner = owner,
        };
    }

    public static JobRecord Started(this JobRecord record, int attempt) => record with
    {
        Status = JobStatus.Processing,
        Attempt = attempt,
        StartedAt = DateTimeOffset.UtcNow,
    };

    public static JobRecord Succeeded(this JobRecord record, DateTimeOffset at, params StoredFile[] outputs) => record with
    {
        Status = JobStatus.Succeeded,
        CompletedAt = at,
        Outputs = outputs,
    };

    public static StoredFile Output(this JobRecord record, int index = 0)
        => new(Ids.New(), record.Id, $"out-{index}.png", "image/png", 3, DateTimeOffset.UtcNow);
}
