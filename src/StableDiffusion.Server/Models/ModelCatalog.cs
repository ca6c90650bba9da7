using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StableDiffusion.Core.Models;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Models;

/// <summary>The served models and, once a worker has loaded them, what they offer.</summary>
internal sealed class ModelCatalog
{
    private readonly ConcurrentDictionary<string, ModelInfo> _loaded = new(StringComparer.OrdinalIgnoreCase);

    public ModelCatalog(IOptions<ModelsOptions> options)
    {
        var o = options.Value;
        if (o.Items.Count == 0)
        {
            var path = string.IsNullOrWhiteSpace(o.DemoModelPath) ? DemoModel.DefaultPath : o.DemoModelPath;
            Models = [new ServedModel(DemoModel.Name, "local", path, "Synthetic demo model with random weights: its images are noise.", IsDemo: true)];
        }
        else
        {
            Models = o.Items.Select(i => new ServedModel(i.Name, i.Owner, i.Path, i.Description, IsDemo: false) { SafetyChecker = i.SafetyChecker }).ToArray();
        }
        Default = Models.FirstOrDefault(m => m.Name == o.Default) ?? Models[0];
    }

    public IReadOnlyList<ServedModel> Models { get; }

    public ServedModel Default { get; }

    /// <summary>Finds a model by <c>name</c>, <c>owner/name</c> or <c>owner/name:version</c> (the version is the name).</summary>
    public ServedModel? Find(string reference)
    {
        var colon = reference.IndexOf(':');
        var version = colon >= 0 ? reference[(colon + 1)..] : null;
        var model = colon >= 0 ? reference[..colon] : reference;
        foreach (var m in Models)
        {
            var nameMatches = string.Equals(m.Name, model, StringComparison.OrdinalIgnoreCase)
                || string.Equals(m.FullName, model, StringComparison.OrdinalIgnoreCase);
            if (nameMatches && (version is null || string.Equals(version, m.Name, StringComparison.OrdinalIgnoreCase)))
            {
                return m;
            }
        }
        return null;
    }

    /// <summary>What the model offers; null until a worker has loaded it.</summary>
    public ModelInfo? InfoOf(ServedModel model) => _loaded.GetValueOrDefault(model.Name);

    public void MarkLoaded(ServedModel model, ModelInfo info) => _loaded[model.Name] = info;

    public bool AllLoaded => Models.All(m => _loaded.ContainsKey(m.Name));
}
