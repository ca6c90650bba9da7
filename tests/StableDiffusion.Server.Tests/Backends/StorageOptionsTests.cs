using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Tests.Backends;

/// <summary>The Storage and Outputs sections bind from configuration and refuse bad values with the key named.</summary>
public sealed class StorageOptionsTests
{
    [Fact]
    public void Defaults_are_the_embedded_backend_and_file_system_outputs()
    {
        var storage = Bind<StorageOptions>(StorageOptions.Section, []);
        var outputs = Bind<OutputsOptions>(OutputsOptions.Section, []);

        Assert.Equal((StorageBackend.Embedded, 3, 5, "sd:"), (storage.Backend, storage.MaxAttempts, storage.HeartbeatSeconds, storage.RedisPrefix));
        Assert.Equal(OutputsBackend.FileSystem, outputs.Backend);
        Assert.Empty(Errors(storage));
        Assert.Empty(Errors(outputs));
    }

    [Fact]
    public void Redis_settings_bind_from_configuration()
    {
        var storage = Bind<StorageOptions>(StorageOptions.Section, new()
        {
            ["Storage:Backend"] = "Redis",
            ["Storage:Redis"] = "127.0.0.1:6380,password=x",
            ["Storage:MaxAttempts"] = "5",
            ["Storage:HeartbeatSeconds"] = "2",
            ["Storage:RedisPrefix"] = "{sd}:",
        });

        Assert.Equal((StorageBackend.Redis, "127.0.0.1:6380,password=x", 5, 2, "{sd}:"),
            (storage.Backend, storage.Redis, storage.MaxAttempts, storage.HeartbeatSeconds, storage.RedisPrefix));
        Assert.Empty(Errors(storage));
    }

    [Fact]
    public void Redis_backend_without_a_connection_string_names_the_key()
    {
        var errors = Errors(new StorageOptions { Backend = StorageBackend.Redis });

        Assert.Contains(errors, e => e.Contains("Storage:Redis", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    public void A_bad_key_prefix_is_refused(string prefix)
    {
        Assert.NotEmpty(Errors(new StorageOptions { RedisPrefix = prefix }));
    }

    [Fact]
    public void Attempts_and_heartbeat_must_be_positive()
    {
        Assert.NotEmpty(Errors(new StorageOptions { MaxAttempts = 0 }));
        Assert.NotEmpty(Errors(new StorageOptions { HeartbeatSeconds = 0 }));
    }

    [Fact]
    public void S3_outputs_bind_and_need_a_bucket()
    {
        var outputs = Bind<OutputsOptions>(OutputsOptions.Section, new()
        {
            ["Outputs:Backend"] = "S3",
            ["Outputs:S3:ServiceUrl"] = "http://127.0.0.1:9000",
            ["Outputs:S3:Region"] = "eu-west-1",
            ["Outputs:S3:AccessKey"] = "a",
            ["Outputs:S3:SecretKey"] = "b",
            ["Outputs:S3:ForcePathStyle"] = "true",
        });

        Assert.Equal(("http://127.0.0.1:9000", "eu-west-1", true), (outputs.S3.ServiceUrl, outputs.S3.Region, outputs.S3.ForcePathStyle));
        Assert.Contains(Errors(outputs), e => e.Contains("Outputs:S3:Bucket", StringComparison.Ordinal));
        outputs.S3.Bucket = "images";
        Assert.Empty(Errors(outputs));
    }

    [Fact]
    public void S3_credentials_come_in_pairs_and_the_endpoint_is_a_url()
    {
        var outputs = new OutputsOptions { Backend = OutputsBackend.S3, S3 = { Bucket = "b", AccessKey = "a", ServiceUrl = "not a url" } };

        var errors = Errors(outputs);

        Assert.Contains(errors, e => e.Contains("Outputs:S3:AccessKey", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Outputs:S3:ServiceUrl", StringComparison.Ordinal));
    }

    [Fact]
    public void A_short_signing_key_is_refused()
    {
        Assert.Contains(Errors(new OutputsOptions { SigningKey = "short" }), e => e.Contains("Outputs:SigningKey", StringComparison.Ordinal));
        Assert.Empty(Errors(new OutputsOptions { SigningKey = new string('k', 32) }));
    }

    [Fact]
    public void Validation_at_start_reports_the_key()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:Backend"] = "Redis" }).Build());
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains("Storage:Redis", error.Message, StringComparison.Ordinal);
    }

    private static T Bind<T>(string section, Dictionary<string, string?> values) where T : new()
    {
        var options = new T();
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(section).Bind(options);
        return options;
    }

    private static List<string> Errors(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? "").ToList();
    }
}
