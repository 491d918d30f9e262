namespace SharpLM.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ character mapping used to write byte strings into vocab.json and merges.txt:
/// printable Latin-1 bytes stand for themselves and the other 68 bytes are shifted to U+0100 and up, so
/// every token is a printable string without spaces (space is 'Ġ', newline 'Ċ').
/// </summary>
public static class ByteToUnicode
{
    static readonly char[] CharOfByte = BuildCharOfByte();
    static readonly short[] ByteOfChar = BuildByteOfChar(CharOfByte);

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char ToChar(byte value) => CharOfByte[value];

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes, static (chars, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                chars[i] = CharOfByte[source[i]];
            }
        });
    }

    /// <summary>The bytes that <paramref name="text"/> stands for, or false when a character is not in the alphabet.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            int value = c < ByteOfChar.Length ? ByteOfChar[c] : -1;
            if (value < 0)
            {
                bytes = [];
                return false;
            }
            bytes[i] = (byte)value;
        }
        return true;
    }

    // Mirrors bytes_to_unicode() in OpenAI's gpt-2/src/encoder.py.
    static char[] BuildCharOfByte()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    static short[] BuildByteOfChar(char[] charOfByte)
    {
        var inverse = new short[charOfByte.Max() + 1];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < charOfByte.Length; b++)
        {
            inverse[charOfByte[b]] = (short)b;
        }
        return inverse;
    }
}
