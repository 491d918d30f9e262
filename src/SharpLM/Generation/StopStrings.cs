namespace SharpLM.Generation;

/// <summary>
/// Cuts generated text at the first occurrence of any stop string (OpenAI's <c>stop</c>), which is not part of the
/// result. Text that could be the start of a stop string is held back until the next piece decides it.
/// </summary>
public sealed class StopStrings
{
    readonly string[] stops;
    string held = "";

    public StopStrings(IEnumerable<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        this.stops = [.. stops];
        if (this.stops.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("a stop string must not be empty.", nameof(stops));
        }
    }

    /// <summary>True once a stop string has appeared; later pieces are ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The part of <paramref name="piece"/> (with what was held back) that can be emitted now.</summary>
    public string Feed(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (Stopped)
        {
            return "";
        }
        string text = held + piece;
        int cut = stops.Select(stop => text.IndexOf(stop, StringComparison.Ordinal)).Where(index => index >= 0).DefaultIfEmpty(-1).Min();
        if (cut >= 0)
        {
            Stopped = true;
            held = "";
            return text[..cut];
        }
        int keep = stops.Length == 0 ? 0 : stops.Max(stop => LongestPrefixAtEnd(text, stop));
        held = text[^keep..];
        return text[..^keep];
    }

    /// <summary>What was held back, at the end of the text.</summary>
    public string Finish()
    {
        string rest = held;
        held = "";
        return rest;
    }

    /// <summary>The longest proper prefix of <paramref name="stop"/> that <paramref name="text"/> ends with.</summary>
    static int LongestPrefixAtEnd(string text, string stop)
    {
        for (int length = Math.Min(stop.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
            {
                return length;
            }
        }
        return 0;
    }
}
