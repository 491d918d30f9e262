using SharpLM.Model;

namespace SharpLM.Generation;

/// <summary>
/// One sequence being continued with a <see cref="KeyValueCache"/>: its tokens, and which of them the cache holds.
/// The model sees the most recent contextLength tokens at positions 0 … contextLength−1, as the no-cache path does:
/// once the text outgrows the window, each new token shifts every position, so the cache is cleared and the last
/// window prefilled again (that token costs a window's forward pass, as it does without a cache).
/// </summary>
public sealed class DecodingSequence : IDisposable
{
    readonly List<int> tokens;
    readonly int contextLength;
    int windowStart;

    /// <param name="config">The model's architecture: context length and layers of the cache.</param>
    /// <param name="context">The tokens so far (at least one).</param>
    public DecodingSequence(TransformerConfig config, IEnumerable<int> context)
        : this(new KeyValueCache(config ?? throw new ArgumentNullException(nameof(config))), config.ContextLength, [.. context ?? throw new ArgumentNullException(nameof(context))], 0)
    {
        if (tokens.Count == 0)
        {
            Cache.Dispose();
            throw new ArgumentException("a sequence needs at least one token to continue.", nameof(context));
        }
    }

    DecodingSequence(KeyValueCache cache, int contextLength, List<int> tokens, int windowStart)
    {
        Cache = cache;
        this.contextLength = contextLength;
        this.tokens = tokens;
        this.windowStart = windowStart;
    }

    public KeyValueCache Cache { get; }

    public IReadOnlyList<int> Tokens => tokens;

    /// <summary>Tokens the next forward pass must feed: the whole window after a reset, else those after the cache.</summary>
    public int PendingCount => tokens.Count - windowStart - Cache.Length;

    /// <summary>The tokens to feed next, after sliding the window if the text outgrew it.</summary>
    public long[] TakePending()
    {
        if (tokens.Count - windowStart > contextLength)
        {
            windowStart = tokens.Count - contextLength;
            Cache.Clear();
        }
        return [.. tokens.Skip(windowStart + Cache.Length).Select(id => (long)id)];
    }

    public void Add(int token) => tokens.Add(token);

    /// <summary>An independent continuation of the same tokens and cache (another sample of one prompt).</summary>
    public DecodingSequence Fork() => new(Cache.Clone(), contextLength, [.. tokens], windowStart);

    public void Dispose() => Cache.Dispose();
}
