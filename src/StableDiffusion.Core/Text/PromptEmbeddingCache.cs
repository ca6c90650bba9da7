using System.Runtime.InteropServices;

namespace StableDiffusion.Core.Text;

/// <summary>
/// Least-recently-used text-encoder outputs of one loaded model, keyed by the prompt's token ids (not its text:
/// prompts that tokenize alike share an entry). Repeated prompts — and the negative prompt, nearly always the same
/// empty string — skip the text encoder. Thread-safe; entries are copied in and out, so callers own what they get.
/// </summary>
public sealed class PromptEmbeddingCache
{
    private readonly Dictionary<TokenIds, LinkedListNode<(TokenIds Key, float[] Hidden)>> _entries = [];
    private readonly LinkedList<(TokenIds Key, float[] Hidden)> _recency = [];
    private readonly Lock _lock = new();
    private long _hits;
    private long _misses;

    /// <param name="capacity">Entries kept (each [77, D] floats: 315 KB for SD 2.x); 0 turns the cache off.</param>
    public PromptEmbeddingCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Lookups answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups that ran the text encoder (with the cache off: every lookup).</summary>
    public long Misses => Interlocked.Read(ref _misses);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The cached hidden states of <paramref name="ids"/> (a copy), else <paramref name="encode"/>'s result, kept.</summary>
    public float[] GetOrAdd(int[] ids, Func<float[]> encode)
    {
        var key = new TokenIds(ids);
        if (Capacity > 0)
        {
            lock (_lock)
            {
                if (_entries.TryGetValue(key, out var node))
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    Interlocked.Increment(ref _hits);
                    return (float[])node.Value.Hidden.Clone();
                }
            }
        }

        Interlocked.Increment(ref _misses);
        float[] hidden = encode();
        if (Capacity > 0)
        {
            Add(key, (float[])hidden.Clone());
        }

        return hidden;
    }

    private void Add(TokenIds key, float[] hidden)
    {
        lock (_lock)
        {
            if (_entries.ContainsKey(key))
            {
                return; // encoded twice at once: the first copy stays
            }

            _entries[key] = _recency.AddFirst((key, hidden));
            if (_entries.Count > Capacity)
            {
                var oldest = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
            }
        }
    }

    /// <summary>Token ids compared by value (the array is the tokenizer's fresh one; nobody mutates it after).</summary>
    private readonly struct TokenIds(int[] ids) : IEquatable<TokenIds>
    {
        private readonly int[] _ids = ids;
        private readonly int _hash = Hash(ids);

        public bool Equals(TokenIds other) => _hash == other._hash && _ids.AsSpan().SequenceEqual(other._ids);

        public override bool Equals(object? obj) => obj is TokenIds other && Equals(other);

        public override int GetHashCode() => _hash;

        private static int Hash(int[] ids)
        {
            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(ids.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
