using System.Text.Json;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// OpenAI's streamed image answer (<c>stream: true</c>): server-sent events, one <c>image_generation.completed</c>
/// (<c>image_edit.completed</c> for edits) per image. OpenAI allows the final image to come before any partial image,
/// and this server sends none, so <c>partial_images</c> is accepted and no <c>partial_image</c> event is written.
/// </summary>
internal sealed class OpenAiImageStream(OpenAiImagesResponse response, bool edit) : IResult
{
    public async Task ExecuteAsync(HttpContext context)
    {
        var type = edit ? "image_edit.completed" : "image_generation.completed";
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        foreach (var image in response.Data)
        {
            var data = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["type"] = type,
                ["b64_json"] = image.B64Json,
                ["created_at"] = response.Created,
                ["size"] = response.Size,
                ["quality"] = response.Quality ?? "auto",
                ["background"] = response.Background,
                ["output_format"] = response.OutputFormat,
                ["usage"] = response.Usage,
            });
            await context.Response.WriteAsync($"event: {type}\ndata: {data}\n\n", context.RequestAborted);
        }
    }
}
