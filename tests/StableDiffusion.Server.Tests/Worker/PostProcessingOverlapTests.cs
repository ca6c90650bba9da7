using Microsoft.Extensions.DependencyInjection;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests.Worker;

/// <summary>The worker takes the next job while the previous one is still being stored, and a job succeeds only once
/// its outputs are stored.</summary>
public sealed class PostProcessingOverlapTests : IAsyncLifetime
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ServerFactory _factory;
    private HttpClient _client = null!;

    public PostProcessingOverlapTests()
    {
        _factory = new ServerFactory(new() { ["PostProcessing:Concurrency"] = "1" })
        {
            ConfigureServices = services =>
            {
                var original = services.Last(d => d.ServiceType == typeof(IOutputStore));
                services.AddSingleton<IOutputStore>(sp => new GatedOutputStore((IOutputStore)original.ImplementationFactory!(sp), _gate.Task));
            },
        };
    }

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public async Task DisposeAsync()
    {
        _gate.TrySetResult();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task The_next_job_starts_while_the_previous_one_waits_for_its_output_store()
    {
        var first = await Wire.CreatedAsync(_client, Wire.Input(seed: 1));
        var second = await Wire.CreatedAsync(_client, Wire.Input(seed: 2));

        // The first job's outputs cannot be stored until the gate opens, yet the worker starts the second job.
        await _factory.Events.WaitAsync((index, e) => index == 1 && e is JobStarted);
        var blocked = await Wire.GetAsync(_client, first.Id());
        _gate.SetResult();
        var done = await Wire.WaitAsync(_client, first.Id(), p => p["status"]!.GetValue<string>() == "succeeded");
        var secondDone = await Wire.WaitAsync(_client, second.Id(), p => p["status"]!.GetValue<string>() == "succeeded");

        Assert.Equal("processing", blocked["status"]!.GetValue<string>());
        Assert.Empty(blocked["output"]?.AsArray() ?? []);
        Assert.Single(done["output"]!.AsArray());
        Assert.Single(secondDone["output"]!.AsArray());
    }

    /// <summary>The real store, whose writes wait for the test's gate.</summary>
    private sealed class GatedOutputStore(IOutputStore inner, Task gate) : IOutputStore
    {
        public async Task PutAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken = default)
        {
            await gate;
            await inner.PutAsync(key, bytes, contentType, cancellationToken);
        }

        public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public string? DirectUrl(StoredFile file, TimeSpan lifetime) => inner.DirectUrl(file, lifetime);
    }
}
