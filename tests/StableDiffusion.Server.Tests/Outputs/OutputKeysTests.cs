using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Outputs;

namespace StableDiffusion.Server.Tests.Outputs;

public sealed class OutputKeysTests
{
    [Fact]
    public void Output_keys_name_the_job_and_the_file_with_its_extension()
    {
        var file = new StoredFile("abc234", "job567", "out-0.png", "image/png", 0, DateTimeOffset.UtcNow);

        Assert.Equal("outputs/job567/abc234.png", OutputKeys.For(file));
    }

    [Fact]
    public void Upload_keys_live_apart_from_outputs()
    {
        var file = new StoredFile("abc234", "", "photo.jpeg", "image/jpeg", 0, DateTimeOffset.UtcNow);

        Assert.Equal("uploads/abc234.jpeg", OutputKeys.For(file));
    }

    [Fact]
    public void A_client_chosen_file_name_cannot_smuggle_a_path_into_the_key()
    {
        var file = new StoredFile("abc234", "", "x.p/../ng", "image/png", 0, DateTimeOffset.UtcNow);

        Assert.Equal("uploads/abc234", OutputKeys.For(file));
    }
}
