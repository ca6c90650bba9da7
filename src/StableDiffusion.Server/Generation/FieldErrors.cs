namespace StableDiffusion.Server.Generation;

/// <summary>Errors per field, in the order they were found (a surface that reports one names the first).</summary>
internal sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new();

    public int Count => _errors.Count;

    /// <summary>True when an input image is over the byte limit (a 413 rather than a 400).</summary>
    public bool TooLarge { get; set; }

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }
        list.Add(message);
    }

    public bool Has(string field) => _errors.ContainsKey(field);

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
}
