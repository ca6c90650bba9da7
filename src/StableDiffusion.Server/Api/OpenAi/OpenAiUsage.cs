using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using StableDiffusion.Core.Text;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>OpenAI's <c>usage</c> of an image response (sent for the GPT image models, as OpenAI does).</summary>
internal sealed record OpenAiImageUsage(
    [property: JsonPropertyName("input_tokens")] int InputTokens,
    [property: JsonPropertyName("output_tokens")] int OutputTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens,
    [property: JsonPropertyName("input_tokens_details")] OpenAiInputTokens InputTokensDetails);

internal sealed record OpenAiInputTokens(
    [property: JsonPropertyName("text_tokens")] int TextTokens,
    [property: JsonPropertyName("image_tokens")] int ImageTokens);

/// <summary>
/// Counts a finished job's tokens in this server's own units, so clients that track usage get numbers that mean
/// something: text tokens = the model's CLIP tokenizer's tokens of the prompt and the negative prompt; image tokens =
/// the input image's latent positions (width/8 x height/8, edits only); output tokens = the latent positions of every
/// output image. Null when the model's tokenizer is not on this machine (a front end whose models live on workers).
/// </summary>
internal static class OpenAiUsage
{
    private const int LatentFactor = 8;
    private static readonly ConcurrentDictionary<string, ClipTokenizer?> Tokenizers = new();

    public static OpenAiImageUsage? Of(Job job, ModelCatalog catalog)
    {
        var settings = job.Request.Settings;
        if (catalog.Find(job.Model.Name) is not { } model || catalog.InfoOf(model) is not { } info
            || Tokenizers.GetOrAdd(Path.Combine(info.Directory, "tokenizer"), Load) is not { } tokenizer)
        {
            return null;
        }
        var text = tokenizer.EncodeTokens(settings.Prompt).Length
            + (settings.NegativePrompt.Length > 0 ? tokenizer.EncodeTokens(settings.NegativePrompt).Length : 0);
        var image = settings.Image is { } input ? input.Width / LatentFactor * (input.Height / LatentFactor) : 0;
        var output = job.Outputs.Count * (job.Request.Width / LatentFactor) * (job.Request.Height / LatentFactor);
        return new OpenAiImageUsage(text + image, output, text + image + output, new OpenAiInputTokens(text, image));
    }

    private static ClipTokenizer? Load(string directory)
    {
        try
        {
            return ClipTokenizer.FromDirectory(directory);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            // Usage is an extra: a tokenizer folder that is missing or unreadable leaves it out rather than turn an
            // image that was made into a 500.
            return null;
        }
    }
}
