using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Outputs;

namespace StableDiffusion.Server.Tests.Outputs;

/// <summary>Output files on the real disk, in a temporary data directory.</summary>
public sealed class FileSystemOutputStoreTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "sd-files-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);

    [Fact]
    public async Task Put_then_get_returns_the_bytes_from_files_under_the_data_directory()
    {
        var store = new FileSystemOutputStore(_dataDirectory);
        byte[] bytes = [1, 2, 3, 4];

        await store.PutAsync("outputs/job1/file1.png", bytes, "image/png");

        Assert.Equal(bytes, await store.GetAsync("outputs/job1/file1.png"));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(_dataDirectory, "files", "outputs", "job1", "file1.png")));
    }

    [Fact]
    public async Task A_second_put_replaces_the_file_whole_and_leaves_no_temporary_files()
    {
        var store = new FileSystemOutputStore(_dataDirectory);
        await store.PutAsync("outputs/job1/file1.png", new byte[100_000], "image/png");

        await store.PutAsync("outputs/job1/file1.png", [7], "image/png");

        Assert.Equal([7], await store.GetAsync("outputs/job1/file1.png"));
        Assert.Equal(["file1.png"], Directory.GetFiles(Path.Combine(store.Root, "outputs", "job1")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Get_of_a_missing_file_is_null()
    {
        var store = new FileSystemOutputStore(_dataDirectory);

        Assert.Null(await store.GetAsync("outputs/none/none.png"));
        Assert.Null(await store.GetAsync("uploads/none.png"));
    }

    [Fact]
    public async Task Delete_removes_the_file_and_its_empty_folder_and_may_repeat()
    {
        var store = new FileSystemOutputStore(_dataDirectory);
        await store.PutAsync("outputs/job1/file1.png", [1], "image/png");

        await store.DeleteAsync("outputs/job1/file1.png");
        await store.DeleteAsync("outputs/job1/file1.png");

        Assert.Null(await store.GetAsync("outputs/job1/file1.png"));
        Assert.False(Directory.Exists(Path.Combine(store.Root, "outputs", "job1")));
    }

    [Theory]
    [InlineData("../secret")]
    [InlineData("outputs/../../secret")]
    [InlineData("/etc/passwd")]
    [InlineData("outputs//file")]
    [InlineData("outputs/./file")]
    [InlineData("outputs\\..\\file")]
    [InlineData("")]
    public async Task Keys_that_could_leave_the_store_are_refused(string key)
    {
        var store = new FileSystemOutputStore(_dataDirectory);

        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(key, [1], "image/png"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAsync(key));
    }

    [Fact]
    public void Direct_url_is_left_to_the_server_link()
    {
        var store = new FileSystemOutputStore(_dataDirectory);
        var file = new StoredFile("file1", "job1", "out-0.png", "image/png", 0, DateTimeOffset.UtcNow);

        Assert.Null(store.DirectUrl(file, TimeSpan.FromHours(1)));
    }
}
