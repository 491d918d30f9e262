using SharpLM.Tokenization;

namespace SharpLM.Tests.Tokenization;

public class ByteToUnicodeTests
{
    [Fact]
    public void Encode_OfAllBytes_GivesDistinctPrintableCharactersAndDecodesBack()
    {
        byte[] all = [.. Enumerable.Range(0, 256).Select(b => (byte)b)];
        string text = ByteToUnicode.Encode(all);
        Assert.Equal(256, text.Distinct().Count());
        Assert.All(text, c => Assert.False(char.IsWhiteSpace(c) || char.IsControl(c)));
        Assert.True(ByteToUnicode.TryDecode(text, out byte[] decoded));
        Assert.Equal(all, decoded);
    }

    [Theory]
    [InlineData((byte)' ', 'Ġ')]
    [InlineData((byte)'\n', 'Ċ')]
    [InlineData((byte)'a', 'a')]
    [InlineData((byte)0xAD, 'Ń')]
    public void ToChar_OnKnownBytes_MatchesGpt2(byte value, char expected) => Assert.Equal(expected, ByteToUnicode.ToChar(value));

    [Fact]
    public void TryDecode_WithCharacterOutsideTheAlphabet_Fails() => Assert.False(ByteToUnicode.TryDecode("a b", out _));
}
