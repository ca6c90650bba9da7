using System.Text;
using System.Web;
using StableDiffusion.Server.Outputs;

namespace StableDiffusion.Server.Tests.Outputs;

public sealed class FileUrlSignerTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private readonly FileUrlSigner _signer = new(Encoding.UTF8.GetBytes("a-signing-key-of-at-least-32-characters"));
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "sd-signer-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public void A_link_verifies_until_it_expires()
    {
        var (expires, sig) = Parse(_signer.Query("file1", Now.AddHours(1)));

        Assert.Equal(Now.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), expires);
        Assert.True(_signer.Verify("file1", expires, sig, Now));
        Assert.True(_signer.Verify("file1", expires, sig, Now.AddHours(1)));
        Assert.False(_signer.Verify("file1", expires, sig, Now.AddHours(1).AddSeconds(1)));
    }

    [Fact]
    public void A_link_is_valid_for_its_file_only()
    {
        var (expires, sig) = Parse(_signer.Query("file1", Now.AddHours(1)));

        Assert.False(_signer.Verify("file2", expires, sig, Now));
    }

    [Fact]
    public void Moving_the_expiry_breaks_the_signature()
    {
        var (expires, sig) = Parse(_signer.Query("file1", Now.AddHours(1)));
        var later = (long.Parse(expires, System.Globalization.CultureInfo.InvariantCulture) + 3600).ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.False(_signer.Verify("file1", later, sig, Now));
    }

    [Fact]
    public void Another_key_signs_differently()
    {
        var other = new FileUrlSigner(Encoding.UTF8.GetBytes("another-signing-key-of-32-characters!!"));
        var (expires, sig) = Parse(_signer.Query("file1", Now.AddHours(1)));

        Assert.False(other.Verify("file1", expires, sig, Now));
    }

    [Theory]
    [InlineData(null, "x")]
    [InlineData("1795000000", null)]
    [InlineData("1795000000", "")]
    [InlineData("-5", "AAAA")]
    [InlineData("17e8", "AAAA")]
    [InlineData("1795000000", "not base64url!")]
    [InlineData("1795000000", "AAAA")]
    public void Malformed_parameters_are_refused(string? expires, string? sig)
    {
        Assert.False(_signer.Verify("file1", expires, sig, Now));
    }

    [Fact]
    public void A_signature_is_base64url_of_32_bytes()
    {
        var (_, sig) = Parse(_signer.Query("file1", Now.AddHours(1)));

        Assert.Equal(43, sig.Length);
        Assert.DoesNotContain('=', sig);
        Assert.DoesNotContain('+', sig);
        Assert.DoesNotContain('/', sig);
    }

    [Fact]
    public void Without_a_configured_key_processes_sharing_a_data_directory_share_one_generated_key()
    {
        var signers = Enumerable.Range(0, 8).AsParallel().Select(_ => FileUrlSigner.Create(null, _dataDirectory)).ToArray();
        var (expires, sig) = Parse(signers[0].Query("file1", Now.AddHours(1)));

        Assert.All(signers, s => Assert.True(s.Verify("file1", expires, sig, Now)));
        Assert.Equal(["signing-key"], Directory.GetFiles(_dataDirectory).Select(Path.GetFileName));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dataDirectory, "signing-key")));
        }
        Assert.True(FileUrlSigner.Create(null, _dataDirectory).Verify("file1", expires, sig, Now)); // and after a restart
    }

    [Fact]
    public void A_configured_key_wins_over_the_generated_one()
    {
        var configured = FileUrlSigner.Create("a-signing-key-of-at-least-32-characters", _dataDirectory);
        var (expires, sig) = Parse(_signer.Query("file1", Now.AddHours(1)));

        Assert.True(configured.Verify("file1", expires, sig, Now));
        Assert.False(File.Exists(Path.Combine(_dataDirectory, "signing-key")));
    }

    private static (string Expires, string Sig) Parse(string query)
    {
        var values = HttpUtility.ParseQueryString(query);
        return (values["expires"]!, values["sig"]!);
    }
}
