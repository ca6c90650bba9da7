using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using StableDiffusion.Server.Tests.Support;
using static StableDiffusion.Server.Tests.Support.TestImages;

namespace StableDiffusion.Server.Tests;

/// <summary>Replicate's files API (<c>POST /v1/files</c>) and multipart predictions (<c>curl -F image=@…</c>).</summary>
[Collection(ImageServerCollection.Name)]
public sealed class FileUploadTests(ImageServerFixture server)
{
    private readonly HttpClient _client = server.Client;

    /// <summary>What the replicate client's files.create sends: a 'content' file part and a JSON 'metadata' blob.</summary>
    private async Task<HttpResponseMessage> UploadAsync(byte[] bytes)
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, "content", "buffer_1700000000000");
        var metadata = new StringContent("{\"purpose\":\"test\"}");
        metadata.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        form.Add(metadata, "metadata", "blob");
        return await _client.PostAsync("/v1/files", form);
    }

    [Fact]
    public async Task Upload_answers_replicates_file_object()
    {
        var png = Png(72, 64);

        var response = await UploadAsync(png);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var file = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Matches("^[a-z2-7]{26}$", file["id"]!.GetValue<string>());
        Assert.Equal("buffer_1700000000000", file["name"]!.GetValue<string>());
        Assert.Equal("application/octet-stream", file["content_type"]!.GetValue<string>());
        Assert.Equal(png.Length, file["size"]!.GetValue<long>());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(png)), file["checksums"]!["sha256"]!.GetValue<string>());
        Assert.Equal("test", file["metadata"]!["purpose"]!.GetValue<string>());
        Assert.True(DateTimeOffset.Parse(file["expires_at"]!.GetValue<string>()) > DateTimeOffset.Parse(file["created_at"]!.GetValue<string>()));
        var url = file["urls"]!["get"]!.GetValue<string>();
        Assert.EndsWith($"/v1/files/{file["id"]}", url);
        Assert.Equal(png, await _client.GetByteArrayAsync(new Uri(url).PathAndQuery));
    }

    [Fact]
    public async Task Prediction_can_reference_an_uploaded_file_by_url_or_id()
    {
        var file = (await (await UploadAsync(Png(72, 64))).Content.ReadFromJsonAsync<JsonObject>())!;
        var byUrl = Wire.Input();
        byUrl.Remove("width");
        byUrl.Remove("height");
        byUrl["image"] = file["urls"]!["get"]!.GetValue<string>();
        var byId = byUrl.DeepClone().AsObject();
        byId["image"] = file["id"]!.GetValue<string>();

        var first = await ImageWire.SucceededAsync(_client, "tiny", byUrl);
        var second = await ImageWire.SucceededAsync(_client, "tiny", byId);

        Assert.Equal((72, 64), SizeOf(await ImageWire.OutputAsync(_client, first)));
        Assert.Equal((72, 64), SizeOf(await ImageWire.OutputAsync(_client, second)));
    }

    [Fact]
    public async Task Deleted_upload_is_gone_and_cannot_be_referenced()
    {
        var file = (await (await UploadAsync(Png(16, 16))).Content.ReadFromJsonAsync<JsonObject>())!;
        var id = file["id"]!.GetValue<string>();

        var deleted = await _client.DeleteAsync($"/v1/files/{id}");
        var input = Wire.Input();
        input["image"] = id;
        var errors = await ImageWire.ErrorsAsync(_client, "tiny", input);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/v1/files/{id}")).StatusCode);
        Assert.Contains("no uploaded file", errors.Text("image"));
    }

    [Fact]
    public async Task Upload_over_the_image_byte_limit_is_413()
    {
        var response = await UploadAsync(NoisePng(256, 256));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotNull((await Wire.ProblemAsync(response))["errors"]!["content"]);
    }

    [Fact]
    public async Task Multipart_prediction_takes_image_parts_like_curl_F()
    {
        // curl -F version=tiny -F 'input={...}' -F image=@photo.png -F mask=@mask.png
        using var form = new MultipartFormDataContent
        {
            { new StringContent("tiny"), "version" },
            { new StringContent("{\"prompt\":\"a red fox\",\"num_inference_steps\":2,\"seed\":3,\"scheduler\":\"K_EULER\"}"), "input" },
        };
        var image = new ByteArrayContent(Png(72, 64));
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(image, "image", "photo.png");
        var mask = new ByteArrayContent(HalfWhitePng(72, 64));
        mask.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(mask, "mask", "mask.png");

        var response = await _client.PostAsync("/v1/predictions", form);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("/v1/files/", created["input"]!["image"]!.GetValue<string>());
        var done = await Wire.WaitDoneAsync(_client, created.Id());
        Assert.Equal("succeeded", done.Status());
        Assert.Equal((72, 64), SizeOf(await ImageWire.OutputAsync(_client, done)));
    }

    [Fact]
    public async Task Multipart_prediction_with_an_oversize_image_part_is_413()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("{\"prompt\":\"a red fox\"}"), "input" },
            { new ByteArrayContent(NoisePng(256, 256)), "image", "big.png" },
        };

        var response = await _client.PostAsync("/v1/predictions", form);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotNull((await Wire.ProblemAsync(response))["errors"]!["image"]);
    }
}
