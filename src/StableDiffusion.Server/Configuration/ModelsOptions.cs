using System.ComponentModel.DataAnnotations;

namespace StableDiffusion.Server.Configuration;

/// <summary>The <c>Models</c> section: which model folders to serve and on which device.</summary>
internal sealed class ModelsOptions
{
    public const string Section = "Models";

    /// <summary>Served models; empty = the generated demo model (random weights).</summary>
    public List<ModelEntryOptions> Items { get; set; } = [];

    /// <summary>Name of the model used when a request names none; null = the first one.</summary>
    public string? Default { get; set; }

    /// <summary>Where the demo model is generated; null = <c>~/.cache/stablediffusion-server/demo-random-weights</c>.</summary>
    public string? DemoModelPath { get; set; }

    /// <summary><c>auto</c>, <c>cuda</c> or <c>cpu</c>.</summary>
    [RegularExpression("^(auto|cuda|cpu)$")]
    public string ExecutionProvider { get; set; } = "auto";

    /// <summary>One worker per device id; each loads every model. Empty = device 0 (a default list here would be appended to, not replaced, by binding).</summary>
    public List<int> Devices { get; set; } = [];

    [Range(0, 256)]
    public int IntraOpThreads { get; set; }

    /// <summary>Text-encoder outputs kept per model and device, by token ids (LRU; 315 KB each for SD 2.x); 0 = off.</summary>
    [Range(0, 4_096)]
    public int PromptCacheEntries { get; set; } = StableDiffusion.Core.Models.ModelLoadOptions.DefaultPromptCacheEntries;
}

/// <summary>One served model folder.</summary>
internal sealed class ModelEntryOptions
{
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    public string Name { get; set; } = "";

    /// <summary>Replicate-style owner shown in <c>owner/name</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    public string Owner { get; set; } = "local";

    [Required]
    public string Path { get; set; } = "";

    public string? Description { get; set; }

    /// <summary>Load the folder's <c>safety_checker/</c> and black out flagged images (the folder must have one).</summary>
    public bool SafetyChecker { get; set; }
}
