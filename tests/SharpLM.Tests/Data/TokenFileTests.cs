using System.Text.Json.Nodes;
using SharpLM.Data;

namespace SharpLM.Tests.Data;

public sealed class TokenFileTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("sharplm-tokens-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string PathOf(string name) => Path.Combine(_directory, name);

    [Theory]
    [InlineData(65536, "uint16", 2)]
    [InlineData(65537, "int32", 4)]
    public void Write_ThenRead_RoundTripsWithTheSmallestDType(int vocabSize, string dtype, int width)
    {
        string path = PathOf("corpus.tokens");
        int[] ids = [0, 1, vocabSize - 1, 12345];
        TokenFileInfo written = TokenFile.Write(path, [ids[..2], ids[2..]], vocabSize, "abc");

        Assert.Equal(new TokenFileInfo("sharplm-tokens", 1, dtype, vocabSize, 4, "abc"), written);
        Assert.Equal(4 * width, new FileInfo(path).Length);
        Assert.Equal(written, TokenFile.ReadInfo(path, "abc"));
        Assert.Equal(ids, TokenFile.ReadAll(path));
        var sidecar = JsonNode.Parse(File.ReadAllText(path + ".json"))!;
        Assert.Equal(dtype, (string?)sidecar["dtype"]);
        Assert.Equal(4, (long?)sidecar["tokenCount"]);
    }

    [Fact]
    public void Write_WithIdOutsideTheVocabulary_ThrowsAndLeavesNoFile()
    {
        string path = PathOf("bad.tokens");
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenFile.Write(path, [1, 2, 300], 256, "abc"));
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Theory]
    [InlineData("format", "\"other-tokens\"", "expected format \"sharplm-tokens\", found \"other-tokens\"")]
    [InlineData("version", "2", "expected version \"1\", found \"2\"")]
    [InlineData("dtype", "\"int32\"", "expected dtype for vocabSize 300 \"uint16\", found \"int32\"")]
    [InlineData("tokenCount", "5", "expected 10 bytes (5 uint16 tokens), found 6")]
    [InlineData("tokenizerHash", "\"def\"", "expected tokenizerHash \"abc\", found \"def\"")]
    public void ReadInfo_WithMismatchedSidecar_SaysWhatWasExpectedAndFound(string field, string value, string message)
    {
        string path = PathOf("corpus.tokens");
        TokenFile.Write(path, [1, 2, 3], 300, "abc");
        var sidecar = JsonNode.Parse(File.ReadAllText(path + ".json"))!;
        sidecar[field] = JsonNode.Parse(value);
        File.WriteAllText(path + ".json", sidecar.ToJsonString());

        var exception = Assert.Throws<InvalidDataException>(() => TokenFile.ReadInfo(path, "abc"));
        Assert.Contains(message, exception.Message);
    }

    [Fact]
    public void ReadInfo_WithoutSidecar_ThrowsFileNotFound()
    {
        string path = PathOf("orphan.tokens");
        File.WriteAllBytes(path, [1, 0]);
        Assert.Throws<FileNotFoundException>(() => TokenFile.ReadInfo(path));
    }
}
