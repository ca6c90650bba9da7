using System.Security.Cryptography;
using System.Text;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// Served models named as A1111 names checkpoints: <c>title</c> = <c>"name [hash]"</c>, which is also the value of the
/// <c>sd_model_checkpoint</c> option. A1111's hash is the first 10 hex digits of the checkpoint file's SHA-256; a model
/// here is a folder of several ONNX files (gigabytes), so the hash is taken over the model's identity (owner/name and
/// folder) instead: stable across restarts, distinct per model, cheap. It is not a content hash.
/// </summary>
internal static class Automatic1111Checkpoints
{
    public static string Sha256(ServedModel model)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{model.FullName}\n{model.Path}")));

    public static string Hash(ServedModel model) => Sha256(model)[..10];

    public static string Title(ServedModel model) => $"{model.Name} [{Hash(model)}]";

    public static Automatic1111Model Describe(ServedModel model)
        // filename: the folder's own name, not the server's path (A1111 gives the path; no frontend reads it).
        => new(Title(model), model.Name, Hash(model), Sha256(model), System.IO.Path.GetFileName(model.Path.TrimEnd('/', '\\')), null);

    /// <summary>Finds a model by title, name, owner/name or hash, as A1111's checkpoint aliases do; null when none matches.</summary>
    public static ServedModel? Resolve(ModelCatalog catalog, string checkpoint)
    {
        var wanted = checkpoint.Trim();
        foreach (var model in catalog.Models)
        {
            if (wanted.Equals(Title(model), StringComparison.OrdinalIgnoreCase) || wanted.Equals(Hash(model), StringComparison.OrdinalIgnoreCase)
                || wanted.Equals(Sha256(model), StringComparison.OrdinalIgnoreCase))
            {
                return model;
            }
        }
        // "name [hash]" with a stale hash, "name.safetensors" as some frontends store it, or plain names.
        var bracket = wanted.IndexOf(" [", StringComparison.Ordinal);
        var name = bracket > 0 ? wanted[..bracket] : wanted;
        return catalog.Find(name) ?? catalog.Find(System.IO.Path.GetFileNameWithoutExtension(name));
    }

    public static string Unknown(string checkpoint, ModelCatalog catalog)
        => $"unknown checkpoint '{checkpoint}'; one of {string.Join(", ", catalog.Models.Select(Title))}";
}
