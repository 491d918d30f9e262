using SharpLM.Tokenization;

namespace SharpLM.Tests.Tokenization;

public class Gpt2PreTokenizerTests
{
    static List<string> Split(string text)
    {
        var pieces = new List<string>();
        foreach (ReadOnlySpan<char> piece in Gpt2PreTokenizer.Split(text))
        {
            pieces.Add(piece.ToString());
        }
        return pieces;
    }

    static List<string> SplitWithRegex(string text) => [.. Gpt2Reference.PreTokenizerRegex().Matches(text).Select(match => match.Value)];

    [Fact]
    public void Split_OnHandoutExample_GivesHandoutPreTokens() =>
        Assert.Equal(["some", " text", " that", " i", "'ll", " pre", "-", "tokenize"], Split("some text that i'll pre-tokenize"));

    [Theory]
    [InlineData("a   b")]
    [InlineData("  \n\n x")]
    [InlineData("x's 'll ?'s ''s 'S 'd'm't're've")]
    [InlineData("trailing   ")]
    [InlineData("\t\t\tx \u00a0y\u2028\u2029z\u3000")]
    [InlineData("日本語のテキスト、句読点。 한국어 текст")]
    [InlineData("e\u0301te\u0301 a\u0308 ...!! 1234 ½ ⅷ")]
    [InlineData("😀😀 hi 👍🏽 family 👨‍👩‍👧")]
    [InlineData("' '  ' 's")]
    public void Split_OnHandPickedText_EqualsRegex(string text) => Assert.Equal(SplitWithRegex(text), Split(text));

    /// <summary>
    /// Outside the BMP the pattern's classes are those of code points (Python's regex and tiktoken); .NET's Regex
    /// would see a mathematical bold A as two "other" surrogates and split " 𝐀x" as " 𝐀", "x". The expected
    /// values were produced by Python's regex module.
    /// </summary>
    [Theory]
    [InlineData(" 𝐀x", new[] { " 𝐀x" })]
    [InlineData("𝐀𝐁𝐂 abc", new[] { "𝐀𝐁𝐂", " abc" })]
    [InlineData(" 𝟏𝟐3", new[] { " 𝟏𝟐3" })]
    [InlineData("a\u0085 b", new[] { "a", "\u0085", " b" })]
    [InlineData("a\u001c b", new[] { "a", "\u001c", " b" })]
    public void Split_OnCodePointsOutsideTheBmp_FollowsPythonRegex(string text, string[] expected) => Assert.Equal(expected, Split(text));

    [SharedDataTheory]
    [MemberData(nameof(TextFiles.All), MemberType = typeof(TextFiles))]
    public void Split_OnSharedDataFile_EqualsRegex(string relativePath)
    {
        string text = File.ReadAllText(SharedData.Path(relativePath));
        SequenceAssert.Equal(SplitWithRegex(text), Split(text));
    }

    [Fact]
    public void Split_OnRandomStrings_EqualsRegex()
    {
        // Characters chosen to hit every alternative and boundary: contractions, each class, runs of spaces.
        const string alphabet = "'sdmtlvre aZ09_ \t\n\r\u00a0\u3000.,!-é\u0301日½😀";
        var random = new Random(1234);
        for (int trial = 0; trial < 3000; trial++)
        {
            var text = new System.Text.StringBuilder();
            int length = random.Next(0, 24);
            for (int i = 0; i < length; i++)
            {
                // Pick code points, not chars, so that no surrogate is left alone.
                int at = random.Next(alphabet.Length);
                if (char.IsLowSurrogate(alphabet[at]))
                {
                    at--;
                }
                text.Append(alphabet, at, char.IsHighSurrogate(alphabet[at]) ? 2 : 1);
            }
            string s = text.ToString();
            Assert.True(SplitWithRegex(s).SequenceEqual(Split(s)), $"differs on \"{s}\"");
        }
    }

    [Fact]
    public void IsSafeSplit_WhereverItHolds_SplittingGivesTheSamePreTokens()
    {
        const string alphabet = "'sdmtlvre aZ09 \t\n.,!-é\u0301日😀";
        var random = new Random(99);
        for (int trial = 0; trial < 2000; trial++)
        {
            string s = new([.. Enumerable.Range(0, random.Next(2, 16)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            List<string> whole = Split(s);
            for (int position = 1; position < s.Length; position++)
            {
                if (Gpt2PreTokenizer.IsSafeSplit(s, position))
                {
                    List<string> parts = [.. Split(s[..position]), .. Split(s[position..])];
                    Assert.True(whole.SequenceEqual(parts), $"cut at {position} of \"{s}\" changes the pre-tokens");
                }
            }
        }
    }
}
