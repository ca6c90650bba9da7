using System.Net;
using System.Text.Json.Nodes;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>Runs image-task predictions and fetches their outputs.</summary>
public static class ImageWire
{
    /// <summary>Creates a prediction for <paramref name="model"/> and waits for it to finish.</summary>
    public static async Task<JsonObject> RunAsync(HttpClient client, string model, JsonObject input)
    {
        var created = await Wire.CreatedAsync(client, input, new JsonObject { ["version"] = model });
        return await Wire.WaitDoneAsync(client, created.Id());
    }

    public static async Task<JsonObject> SucceededAsync(HttpClient client, string model, JsonObject input)
    {
        var done = await RunAsync(client, model, input);
        Assert.True(done.Status() == "succeeded", done.ToJsonString());
        return done;
    }

    /// <summary>The bytes of output <paramref name="index"/>.</summary>
    public static async Task<byte[]> OutputAsync(HttpClient client, JsonObject prediction, int index = 0)
    {
        var url = new Uri(prediction["output"]![index]!.GetValue<string>());
        return await client.GetByteArrayAsync(url.PathAndQuery);
    }

    /// <summary>Posts and expects a problem with <paramref name="status"/> (input validation: 422, as Replicate); returns its <c>errors</c>.</summary>
    public static async Task<JsonObject> ErrorsAsync(HttpClient client, string model, JsonObject input, HttpStatusCode status = HttpStatusCode.UnprocessableEntity)
    {
        var response = await Wire.CreateAsync(client, input, new JsonObject { ["version"] = model });
        var problem = await Wire.ProblemAsync(response);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {problem.ToJsonString()}");
        return problem["errors"]!.AsObject();
    }

    public static string Text(this JsonObject errors, string field) => errors[field]![0]!.GetValue<string>();

    public static string Logs(this JsonObject prediction) => prediction["logs"]!.GetValue<string>();
}
