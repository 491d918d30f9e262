using System.Globalization;

namespace SharpLM.Tokenization;

/// <summary>
/// A hand-written matcher for GPT-2's pre-tokenisation pattern (<see cref="Pattern"/>, handout §2.4), about four
/// times as fast as .NET's source-generated Regex for it (see the tokenizer benchmark) and allocation-free. Character classes are those of code points (as in
/// Python's <c>regex</c> and tiktoken), so a letter outside the Basic Multilingual Plane is a letter; .NET's
/// <c>Regex</c> sees its two surrogates as "other" instead. Everywhere else the two agree, which the tests check
/// against <c>Regex</c> on every shared data file and on random strings.
/// </summary>
public static class Gpt2PreTokenizer
{
    public const string Pattern = @"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    enum CharClass : byte { Other, Letter, Number, WhiteSpace }

    static readonly CharClass[] AsciiClass = BuildAsciiClass();

    /// <summary>Splits <paramref name="text"/> into pre-tokens: <c>foreach (var piece in Split(text))</c>.</summary>
    public static Enumerator Split(ReadOnlySpan<char> text) => new(text);

    /// <summary>
    /// The length of the pre-token that starts <paramref name="text"/> (non-empty). The branches follow the
    /// pattern's alternatives in order; the first that matches wins, as in a backtracking regex.
    /// </summary>
    public static int MatchLength(ReadOnlySpan<char> text)
    {
        char first = text[0];
        if (first == '\'' && text.Length > 1)
        {
            int contraction = ContractionLength(text);
            if (contraction > 0)
            {
                return contraction;
            }
        }
        CharClass firstClass = ClassAt(text, 0, out _);
        if (firstClass != CharClass.WhiteSpace)
        {
            return RunEnd(text, 0, firstClass);
        }
        if (first == ' ' && text.Length > 1)
        {
            // ` ?\p{L}+`, ` ?\p{N}+` and ` ?[^\s\p{L}\p{N}]+` take one leading space along.
            CharClass next = ClassAt(text, 1, out _);
            if (next != CharClass.WhiteSpace)
            {
                return RunEnd(text, 1, next);
            }
        }
        int end = 1;
        while (end < text.Length && IsWhiteSpace(text[end]))
        {
            end++;
        }
        // `\s+(?!\S)` backs off one character so that the last space can lead the next word;
        // a single whitespace character before a non-space falls through to `\s+`.
        return end == text.Length || end == 1 ? end : end - 1;
    }

    /// <summary>
    /// True when cutting <paramref name="text"/> at <paramref name="position"/> and pre-tokenising both sides
    /// gives the same pre-tokens as the whole: the character before is not whitespace, not an apostrophe
    /// (it could start a contraction) and of a different class than the character after. No alternative of the
    /// pattern matches across such a point or looks past it.
    /// </summary>
    internal static bool IsSafeSplit(ReadOnlySpan<char> text, int position)
    {
        char before = text[position - 1];
        if (before == '\'' || char.IsHighSurrogate(before) || IsWhiteSpace(before))
        {
            return false;
        }
        int beforeStart = char.IsLowSurrogate(before) && position >= 2 && char.IsHighSurrogate(text[position - 2]) ? position - 2 : position - 1;
        return ClassAt(text, beforeStart, out _) != ClassAt(text, position, out _);
    }

    static int ContractionLength(ReadOnlySpan<char> text)
    {
        char second = text[1];
        if (second is 's' or 'd' or 'm' or 't')
        {
            return 2;
        }
        if (text.Length > 2)
        {
            char third = text[2];
            if ((second == 'l' && third == 'l') || (second == 'v' && third == 'e') || (second == 'r' && third == 'e'))
            {
                return 3;
            }
        }
        return 0;
    }

    /// <summary>The end of the run of characters of class <paramref name="runClass"/> starting at <paramref name="start"/>.</summary>
    static int RunEnd(ReadOnlySpan<char> text, int start, CharClass runClass)
    {
        int i = start;
        while (i < text.Length)
        {
            char c = text[i];
            if (c < 128)
            {
                if (AsciiClass[c] != runClass)
                {
                    break;
                }
                i++;
            }
            else
            {
                if (ClassAt(text, i, out int width) != runClass)
                {
                    break;
                }
                i += width;
            }
        }
        return i;
    }

    static CharClass ClassAt(ReadOnlySpan<char> text, int index, out int width)
    {
        char c = text[index];
        width = 1;
        if (c < 128)
        {
            return AsciiClass[c];
        }
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            width = 2;
            return ClassOf(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, text[index + 1])));
        }
        return IsWhiteSpace(c) ? CharClass.WhiteSpace : ClassOf(CharUnicodeInfo.GetUnicodeCategory(c));
    }

    /// <summary>`\s`: Unicode White_Space, the same set in .NET's Regex and Python's regex; all in the BMP.</summary>
    static bool IsWhiteSpace(char c) => char.IsWhiteSpace(c);

    static CharClass ClassOf(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
        _ => CharClass.Other,
    };

    static CharClass[] BuildAsciiClass()
    {
        var table = new CharClass[128];
        for (int c = 0; c < table.Length; c++)
        {
            table[c] = char.IsWhiteSpace((char)c) ? CharClass.WhiteSpace : ClassOf(CharUnicodeInfo.GetUnicodeCategory((char)c));
        }
        return table;
    }

    /// <summary>Enumerates the pre-tokens of a span without allocating.</summary>
    public ref struct Enumerator
    {
        readonly ReadOnlySpan<char> _text;
        int _start;
        int _length;

        internal Enumerator(ReadOnlySpan<char> text)
        {
            _text = text;
            _start = 0;
            _length = 0;
        }

        public readonly ReadOnlySpan<char> Current => _text.Slice(_start, _length);

        public readonly Enumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            _start += _length;
            if (_start >= _text.Length)
            {
                return false;
            }
            _length = MatchLength(_text[_start..]);
            return true;
        }
    }
}
