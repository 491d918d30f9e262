using System.Buffers;

namespace SharpLM.Tokenization;

/// <summary>
/// Finds special tokens in text: the leftmost occurrence, and there the longest token, so that with
/// <c>&lt;|endoftext|&gt;</c> and <c>&lt;|endoftext|&gt;&lt;|endoftext|&gt;</c> both special the doubled one wins
/// (like a regex alternation sorted longest first).
/// </summary>
internal sealed class SpecialTokenMatcher
{
    readonly string[] _longestFirst;
    readonly SearchValues<string>? _search;

    public SpecialTokenMatcher(IEnumerable<string> specialTokens)
    {
        _longestFirst = [.. specialTokens.Distinct(StringComparer.Ordinal).OrderByDescending(token => token.Length).ThenBy(token => token, StringComparer.Ordinal)];
        foreach (string token in _longestFirst)
        {
            if (token.Length == 0)
            {
                throw new ArgumentException("a special token must not be empty", nameof(specialTokens));
            }
        }
        _search = _longestFirst.Length == 0 ? null : SearchValues.Create(_longestFirst, StringComparison.Ordinal);
        MaxLength = _longestFirst.Length == 0 ? 0 : _longestFirst[0].Length;
    }

    public static SpecialTokenMatcher None { get; } = new([]);

    public int Count => _longestFirst.Length;

    /// <summary>The length of the longest special token (0 without special tokens).</summary>
    public int MaxLength { get; }

    /// <summary>
    /// Finds the first special token in <paramref name="text"/>; <paramref name="token"/> is the matched string
    /// (one of the instances passed in), <paramref name="index"/> its position. False when there is none.
    /// </summary>
    public bool TryFind(ReadOnlySpan<char> text, out int index, out string token)
    {
        token = "";
        index = _search is null ? -1 : text.IndexOfAny(_search);
        if (index < 0)
        {
            return false;
        }
        ReadOnlySpan<char> rest = text[index..];
        foreach (string candidate in _longestFirst)
        {
            if (rest.StartsWith(candidate, StringComparison.Ordinal))
            {
                token = candidate;
                return true;
            }
        }
        throw new InvalidOperationException("SearchValues found a special token that no candidate matches");
    }
}
