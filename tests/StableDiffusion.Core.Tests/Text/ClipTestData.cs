using System.Text.Json;
using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Tests.Text;

/// <summary>The real CLIP vocabulary and transformers' reference ids, read from ../shared next to the repository (never copied into it).</summary>
internal static class ClipTestData
{
    private static readonly Lazy<string?> SharedDirectory = new(FindSharedDirectory);

    // Loaded once per test run (the vocabulary is 1 MB); the tokenizer is thread-safe.
    private static readonly Lazy<ClipTokenizer> Sd2Tokenizer = new(() => ClipTokenizer.FromDirectory(TokenizerDirectory));
    private static readonly Lazy<ClipTokenizer> Sd1Tokenizer = new(() => ClipTokenizer.FromFiles(
        Path.Combine(TokenizerDirectory, "vocab.json"), Path.Combine(TokenizerDirectory, "merges.txt")));

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string TokenizerDirectory => Path.Combine(RequireShared(), "clip-tokenizer");

    public static string ReferencePath => Path.Combine(RequireShared(), "reference", "tokenizer-sample.json");

    /// <summary>Why the real data cannot be used here, or null when it is all present.</summary>
    public static string? MissingReason
    {
        get
        {
            string? shared = SharedDirectory.Value;
            if (shared is null)
            {
                return "Real CLIP tokenizer data not found: no StableDiffusion.Server.sln above the test assembly, so no ../shared folder.";
            }

            string[] required =
            [
                Path.Combine(shared, "clip-tokenizer", "vocab.json"),
                Path.Combine(shared, "clip-tokenizer", "merges.txt"),
                Path.Combine(shared, "clip-tokenizer", "special_tokens_map.json"),
                Path.Combine(shared, "clip-tokenizer", "tokenizer_config.json"),
                Path.Combine(shared, "reference", "tokenizer-sample.json"),
            ];
            string[] missing = [.. required.Where(path => !File.Exists(path))];
            return missing.Length == 0 ? null : $"Real CLIP tokenizer data missing: {string.Join(", ", missing)}.";
        }
    }

    /// <summary>SD 2.x as shipped: the shared folder, whose special_tokens_map.json pads with "!" (id 0).</summary>
    public static ClipTokenizer Sd2() => Sd2Tokenizer.Value;

    /// <summary>SD 1.x: the same vocabulary built like CLIPTokenizer(vocab, merges) — pad &lt;|endoftext|&gt; (49407), "!" not an added token.</summary>
    public static ClipTokenizer Sd1() => Sd1Tokenizer.Value;

    public static IReadOnlyList<ReferenceCase> ReferenceCases()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(ReferencePath));
        var cases = new List<ReferenceCase>();
        foreach (JsonElement item in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            cases.Add(new ReferenceCase(
                item.GetProperty("prompt").GetString()!,
                [.. item.GetProperty("sd2_ids_no_ftfy").EnumerateArray().Select(e => e.GetInt32())],
                [.. item.GetProperty("sd1_ids_no_ftfy").EnumerateArray().Select(e => e.GetInt32())]));
        }

        return cases;
    }

    /// <summary>Case indices for theories; one placeholder row when the data is absent so the theory reports why.</summary>
    public static TheoryData<int> ReferenceCaseIndices()
    {
        var data = new TheoryData<int>();
        if (MissingReason is not null)
        {
            data.Add(-1);
            return data;
        }

        for (int i = 0; i < ReferenceCases().Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    private static string RequireShared()
    {
        if (MissingReason is { } reason)
        {
            // Reached only where the tests are not skipped, i.e. in CI (CI=true): missing data must fail there.
            throw new InvalidOperationException(reason + " CI=true requires it at ../shared relative to the repository root.");
        }

        return SharedDirectory.Value!;
    }

    private static string? FindSharedDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StableDiffusion.Server.sln")))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            }
        }

        return null;
    }
}

internal sealed record ReferenceCase(string Prompt, int[] Sd2Ids, int[] Sd1Ids);

/// <summary>A fact that needs the real CLIP vocabulary: skipped with the reason when it is missing, except in CI where it fails.</summary>
public sealed class ClipVocabularyFactAttribute : FactAttribute
{
    public ClipVocabularyFactAttribute()
    {
        if (!ClipTestData.IsCi && ClipTestData.MissingReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>The theory counterpart of <see cref="ClipVocabularyFactAttribute"/>.</summary>
public sealed class ClipVocabularyTheoryAttribute : TheoryAttribute
{
    public ClipVocabularyTheoryAttribute()
    {
        if (!ClipTestData.IsCi && ClipTestData.MissingReason is { } reason)
        {
            Skip = reason;
        }
    }
}
