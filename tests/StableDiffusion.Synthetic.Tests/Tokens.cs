using System.Text.Json;

namespace StableDiffusion.Synthetic.Tests;

/// <summary>The special ids of a model folder's tokenizer, read the way a loader reads them.</summary>
internal sealed record Tokens(int Bos, int Eos, int Pad, Dictionary<string, int> Vocab)
{
    public static Tokens Read(string modelFolder)
    {
        string directory = Path.Combine(modelFolder, "tokenizer");
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(directory, "vocab.json")))!;
        using JsonDocument map = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "special_tokens_map.json")));
        JsonElement pad = map.RootElement.GetProperty("pad_token");
        string padText = pad.ValueKind == JsonValueKind.String ? pad.GetString()! : pad.GetProperty("content").GetString()!;
        return new Tokens(vocab["<|startoftext|>"], vocab["<|endoftext|>"], vocab[padText], vocab);
    }
}
