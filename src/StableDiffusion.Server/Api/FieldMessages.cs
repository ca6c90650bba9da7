namespace StableDiffusion.Server.Api;

/// <summary>
/// Errors per field as one sentence that names every field and why ("'width' must be a multiple of 8; 'prompt' is
/// required"), for the clients that show only one message: the Vercel AI SDK shows a problem's <c>detail</c>, the
/// openai clients an error's <c>message</c>. The validator's messages are written to follow the field's name.
/// </summary>
internal static class FieldMessages
{
    public static string Sentence(IEnumerable<KeyValuePair<string, string[]>> errors)
        => string.Join("; ", errors.SelectMany(e => e.Value.Select(m => $"'{e.Key}' {m}")));
}
