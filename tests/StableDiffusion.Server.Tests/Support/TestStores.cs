using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Backends.Embedded;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Outputs;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>A <see cref="JobStore"/> over the real embedded backend (SQLite + files) in a fresh temporary directory.</summary>
internal static class TestStores
{
    public static JobStore Create(ResultsOptions? results = null, TimeProvider? time = null)
    {
        var directory = Directory.CreateTempSubdirectory("sd-store-test-").FullName;
        var outputs = new FileSystemOutputStore(directory);
        return new JobStore(
            new SqlitePredictionStore(Path.Combine(directory, "predictions.db")),
            outputs,
            new FileLinks(outputs, FileUrlSigner.Create(null, directory).Query),
            new ModelCatalog(Options.Create(new ModelsOptions())),
            Options.Create(results ?? new ResultsOptions()),
            time ?? TimeProvider.System,
            NullLogger<JobStore>.Instance);
    }

    /// <summary>Stores a file of <paramref name="size"/> bytes (an output of <paramref name="jobId"/>, or an upload).</summary>
    public static Task<StoredFile> SaveAsync(this JobStore store, string id, string jobId, int size)
        => store.SaveFileAsync(new StoredFile(id, jobId, id + ".png", "image/png", size, DateTimeOffset.UtcNow)
        {
            Key = StoredFile.KeyFor(id, jobId, 1),
        }, new byte[size]);
}
