using System.Text;
using SharpLM.IO;

namespace SharpLM.Tests.IO;

public class Utf8TextReaderTests
{
    static string ReadAll(byte[] bytes, int bufferSize = 16)
    {
        using var reader = new Utf8TextReader(new MemoryStream(bytes), "input", bufferSize: bufferSize);
        return reader.ReadToEnd();
    }

    [Fact]
    public void ReadToEnd_WithSequencesAcrossBufferBoundaries_DecodesEverything()
    {
        string text = string.Concat(Enumerable.Repeat("aé日😀\uFEFF", 50));
        Assert.Equal(text, ReadAll(Encoding.UTF8.GetBytes(text)));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'b', 0xFF, (byte)'c' }, 2)]
    [InlineData(new byte[] { (byte)'a', 0xE2, 0x82 }, 1)]
    [InlineData(new byte[] { 0xC0, 0x80 }, 0)]
    [InlineData(new byte[] { (byte)'x', 0xED, 0xA0, 0x80 }, 1)]
    public void Read_OfInvalidUtf8_ThrowsWithTheByteOffset(byte[] bytes, long offset)
    {
        var exception = Assert.Throws<InvalidDataException>(() => ReadAll(bytes));
        Assert.Contains($"input: invalid UTF-8 at byte offset {offset}", exception.Message);
    }

    [Fact]
    public void Read_OfInvalidByteFarIntoTheStream_CountsEarlierBuffers()
    {
        byte[] bytes = [.. Enumerable.Repeat((byte)'a', 1000), 0xFF];
        var exception = Assert.Throws<InvalidDataException>(() => ReadAll(bytes));
        Assert.Contains("byte offset 1000", exception.Message);
    }

    [Fact]
    public void BytesRead_AfterReadingEverything_IsTheStreamLength()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("héllo wörld");
        using var reader = new Utf8TextReader(new MemoryStream(bytes), "input", bufferSize: 16);
        Assert.Equal('h', reader.Peek());
        reader.ReadToEnd();
        Assert.Equal(bytes.Length, reader.BytesRead);
        Assert.Equal(-1, reader.Read());
    }
}
