using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Outputs;

namespace StableDiffusion.Server.Tests.Outputs;

public sealed class OutputsRegistrationTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "sd-outputs-reg-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public void File_system_is_the_default_store_under_the_data_directory()
    {
        using var provider = Build([]);

        var store = Assert.IsType<FileSystemOutputStore>(provider.GetRequiredService<IOutputStore>());

        Assert.Equal(Path.Combine(_dataDirectory, "files"), store.Root);
        Assert.NotNull(provider.GetRequiredService<FileUrlSigner>());
        Assert.True(File.Exists(Path.Combine(_dataDirectory, "signing-key")));
    }

    [Fact]
    public void S3_is_chosen_by_configuration()
    {
        using var provider = Build(new()
        {
            ["Outputs:Backend"] = "S3",
            ["Outputs:S3:ServiceUrl"] = "http://127.0.0.1:9",
            ["Outputs:S3:Bucket"] = "images",
            ["Outputs:S3:AccessKey"] = "a",
            ["Outputs:S3:SecretKey"] = "b",
            ["Outputs:SigningKey"] = new string('k', 32),
        });

        var store = Assert.IsType<S3OutputStore>(provider.GetRequiredService<IOutputStore>());

        Assert.Equal("images", store.Bucket);
        Assert.NotNull(provider.GetRequiredService<FileUrlSigner>());
        Assert.False(File.Exists(Path.Combine(_dataDirectory, "signing-key"))); // the configured key is used
    }

    private ServiceProvider Build(Dictionary<string, string?> values)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddOptions<OutputsOptions>().BindConfiguration(OutputsOptions.Section).ValidateDataAnnotations();
        services.AddOutputStore(_ => _dataDirectory);
        return services.BuildServiceProvider();
    }
}
