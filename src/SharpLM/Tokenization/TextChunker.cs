namespace SharpLM.Tokenization;

/// <summary>
/// Reads a text stream in chunks that can be tokenised independently: every chunk ends where cutting changes
/// neither the special-token matches nor the pre-tokens, so encoding (or counting) chunk by chunk gives exactly
/// the result of doing it on the whole text. Memory stays at about <c>targetLength</c> characters; it grows
/// only for a run of characters with no safe point in it, which is then a single pre-token anyway.
/// </summary>
internal sealed class TextChunker
{
    readonly TextReader _reader;
    readonly SpecialTokenMatcher _specials;
    char[] _buffer;
    int _length;
    int _handedOut;
    bool _endOfInput;

    public TextChunker(TextReader reader, SpecialTokenMatcher specials, int targetLength = 1 << 16)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetLength, 2);
        _reader = reader;
        _specials = specials;
        _buffer = new char[Math.Max(targetLength, specials.MaxLength + 2)];
    }

    /// <summary>The characters held in memory; the constant-memory test checks it stays put.</summary>
    public int BufferCapacity => _buffer.Length;

    /// <summary>The next chunk, valid until the next call; false at the end of the input.</summary>
    public bool TryRead(out ReadOnlyMemory<char> chunk)
    {
        if (_handedOut > 0)
        {
            Array.Copy(_buffer, _handedOut, _buffer, 0, _length - _handedOut);
            _length -= _handedOut;
            _handedOut = 0;
        }
        while (true)
        {
            Fill();
            if (_length == 0)
            {
                chunk = default;
                return false;
            }
            int cut = _endOfInput ? _length : FindCut(_buffer.AsSpan(0, _length));
            if (cut > 0)
            {
                _handedOut = cut;
                chunk = _buffer.AsMemory(0, cut);
                return true;
            }
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
    }

    void Fill()
    {
        while (_length < _buffer.Length && !_endOfInput)
        {
            int read = _reader.Read(_buffer, _length, _buffer.Length - _length);
            if (read == 0)
            {
                _endOfInput = true;
            }
            _length += read;
        }
    }

    /// <summary>The last safe cut in <paramref name="text"/>, the end of a special token if one is in the second half; 0 if none.</summary>
    int FindCut(ReadOnlySpan<char> text)
    {
        int n = text.Length;
        // A special token starting after n - MaxLength might continue into text not read yet, and only matches
        // starting before that point are certain; cuts are kept at or before it.
        int lastCertainStart = n - _specials.MaxLength;
        int lastSpecialEnd = 0;
        int searchFrom = 0;
        while (_specials.TryFind(text[searchFrom..], out int index, out string token) && searchFrom + index <= lastCertainStart)
        {
            searchFrom += index + token.Length;
            lastSpecialEnd = searchFrom;
        }
        if (lastSpecialEnd > 0 && lastSpecialEnd >= n / 2)
        {
            return lastSpecialEnd;
        }
        int limit = Math.Min(n - 1, lastCertainStart + 1);
        for (int position = limit; position > lastSpecialEnd && position >= 1; position--)
        {
            if (Gpt2PreTokenizer.IsSafeSplit(text, position))
            {
                return position;
            }
        }
        return lastSpecialEnd;
    }
}
