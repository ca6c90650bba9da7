using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StableDiffusion.Server.Tests.Support;

/// <summary>Small helpers to speak the predictions API from tests.</summary>
public static class Wire
{
    public static JsonObject Input(int steps = 2, int size = 64, long seed = 1, string prompt = "a red fox") => new()
    {
        ["prompt"] = prompt,
        ["width"] = size,
        ["height"] = size,
        ["num_inference_steps"] = steps,
        ["seed"] = seed,
        // Euler runs one UNet call per step (PNDM runs one more), so progress totals equal num_inference_steps.
        ["scheduler"] = "K_EULER",
    };

    /// <summary>A job that takes many denoising steps, so it is still running when the test acts on it.</summary>
    public static JsonObject SlowInput() => Input(steps: 999, size: 512);

    public static async Task<HttpResponseMessage> CreateAsync(HttpClient client, JsonObject input, JsonObject? extra = null, string? prefer = null)
    {
        var body = new JsonObject { ["input"] = input.DeepClone() };
        foreach (var (key, value) in extra ?? [])
        {
            body[key] = value?.DeepClone();
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/predictions") { Content = JsonContent.Create(body) };
        if (prefer is not null)
        {
            request.Headers.TryAddWithoutValidation("Prefer", prefer);
        }
        return await client.SendAsync(request);
    }

    public static async Task<JsonObject> CreatedAsync(HttpClient client, JsonObject input, JsonObject? extra = null, string? prefer = null)
    {
        var response = await CreateAsync(client, input, extra, prefer);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> GetAsync(HttpClient client, string id)
        => (await client.GetFromJsonAsync<JsonObject>($"/v1/predictions/{id}"))!;

    /// <summary>Polls until <paramref name="until"/> holds (a safety net of two minutes, not a timing assertion).</summary>
    public static async Task<JsonObject> WaitAsync(HttpClient client, string id, Func<JsonObject, bool> until)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var prediction = await GetAsync(client, id);
            if (until(prediction))
            {
                return prediction;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"prediction {id} never reached the expected state: {prediction.ToJsonString()}");
            }
            await Task.Delay(20);
        }
    }

    public static Task<JsonObject> WaitDoneAsync(HttpClient client, string id)
        => WaitAsync(client, id, p => p["status"]!.GetValue<string>() is "succeeded" or "failed" or "canceled");

    /// <summary>Creates the slow job (<see cref="SlowInput"/>) and waits until the worker runs it: the worker is then busy.</summary>
    public static async Task<JsonObject> RunningSlowJobAsync(HttpClient client)
    {
        var running = await CreatedAsync(client, SlowInput());
        await WaitRunningAsync(client, running.Id());
        return running;
    }

    /// <summary>Waits until the job runs and has reported at least one denoising step.</summary>
    public static Task<JsonObject> WaitRunningAsync(HttpClient client, string id)
        => WaitAsync(client, id, p => p["status"]!.GetValue<string>() == "processing" && p["logs"]!.GetValue<string>().Contains("| 1/"));

    public static string Status(this JsonObject prediction) => prediction["status"]!.GetValue<string>();

    public static string Id(this JsonObject prediction) => prediction["id"]!.GetValue<string>();

    public static async Task<JsonObject> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}
