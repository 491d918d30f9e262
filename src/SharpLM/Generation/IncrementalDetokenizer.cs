using System.Text;
using SharpLM.Tokenization;

namespace SharpLM.Generation;

/// <summary>
/// Turns generated token ids into text one token at a time at a cost independent of the text so far: a stateful
/// UTF-8 decoder holds back the bytes of a character split across tokens until its last byte arrives. The pieces
/// concatenate to <see cref="Tokenizer.Decode(IEnumerable{int})"/> of all the ids.
/// </summary>
public sealed class IncrementalDetokenizer(Tokenizer tokenizer)
{
    readonly Tokenizer tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
    readonly Decoder decoder = Encoding.UTF8.GetDecoder();
    char[] characters = new char[16];

    /// <summary>The text completed by <paramref name="id"/>'s bytes; empty while a character is still incomplete.</summary>
    public string Append(int id) => Decode(tokenizer.TokenBytes(id), flush: false);

    /// <summary>What an incomplete trailing character becomes at the end of the text (U+FFFD), else empty.</summary>
    public string Finish() => Decode([], flush: true);

    string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        int most = decoder.GetCharCount(bytes, flush);
        if (most > characters.Length)
        {
            characters = new char[Math.Max(most, 2 * characters.Length)];
        }
        int count = decoder.GetChars(bytes, characters, flush);
        return new string(characters, 0, count);
    }
}
