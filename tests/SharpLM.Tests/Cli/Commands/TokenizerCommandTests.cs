using System.Text;
using SharpLM.Data;
using SharpLM.Tokenization;

namespace SharpLM.Tests.Cli.Commands;

/// <summary>`sharplm tokenizer train` and `sharplm tokenize`, run in-process.</summary>
public sealed class TokenizerCommandTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("sharplm-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string PathOf(string name) => Path.Combine(_directory, name);

    string WriteCorpus()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 200; i++)
        {
            text.Append($"Once upon a time, a cat named Tom{i % 7} sat on the mat. It's the end.\n<|endoftext|>\n");
        }
        string path = PathOf("corpus.txt");
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public void TrainThenTokenize_OnSmallCorpus_WritesTokenizerAndTokenFileThatDecodesBack()
    {
        string corpus = WriteCorpus();
        string tokenizerDirectory = PathOf("tok");

        var train = CliRun.Of("tokenizer", "train", "--input", corpus, "--vocab-size", "280", "--special", "<|endoftext|>", "--out", tokenizerDirectory);
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("trained 280 tokens", train.Output);
        Assert.Contains("peak memory:", train.Output);
        Assert.Contains("longest token:", train.Output);
        Assert.Contains("merging: done", train.Output);

        string tokens = PathOf("corpus.tokens");
        var tokenize = CliRun.Of("tokenize", "--tokenizer", tokenizerDirectory, "--input", corpus, "--out", tokens);
        Assert.True(tokenize.ExitCode == 0, tokenize.Error);
        Assert.Contains("bytes/token", tokenize.Output);
        Assert.Contains("MB/s", tokenize.Output);

        var tokenizer = Tokenizer.Load(tokenizerDirectory);
        int[] ids = TokenFile.ReadAll(tokens, tokenizer.Hash);
        Assert.Equal(File.ReadAllText(corpus), tokenizer.Decode(ids));
        Assert.Contains(tokenizer.SpecialTokenId("<|endoftext|>")!.Value, ids);

        var detokenize = CliRun.Of("detokenize", "--tokenizer", tokenizerDirectory, "--input", tokens, "--out", PathOf("back.txt"));
        Assert.True(detokenize.ExitCode == 0, detokenize.Error);
        Assert.Equal(File.ReadAllBytes(corpus), File.ReadAllBytes(PathOf("back.txt")));
    }

    /// <summary>Trains a tokenizer into tok/ and tokenizes the corpus into corpus.tokens.</summary>
    (string Tokenizer, string Tokens) TrainAndTokenize()
    {
        string corpus = WriteCorpus();
        Assert.Equal(0, CliRun.Of("tokenizer", "train", "--input", corpus, "--vocab-size", "270", "--out", PathOf("tok")).ExitCode);
        Assert.Equal(0, CliRun.Of("tokenize", "--tokenizer", PathOf("tok"), "--input", corpus, "--out", PathOf("corpus.tokens")).ExitCode);
        return (PathOf("tok"), PathOf("corpus.tokens"));
    }

    [Fact]
    public void Detokenize_WithSidecarOfAnotherVersion_ExitsSayingExpectedAndFound()
    {
        var (tokenizer, tokens) = TrainAndTokenize();
        string sidecar = tokens + ".json";
        File.WriteAllText(sidecar, File.ReadAllText(sidecar).Replace("\"version\": 1", "\"version\": 7"));
        CliRun.Of("detokenize", "--tokenizer", tokenizer, "--input", tokens, "--out", PathOf("back.txt"))
            .AssertOneLineError("expected version \"1\", found \"7\"");
        Assert.False(File.Exists(PathOf("back.txt")));
    }

    [Fact]
    public void Detokenize_WithAnotherTokenizer_ExitsSayingTheHashDiffers()
    {
        var (_, tokens) = TrainAndTokenize();
        Assert.Equal(0, CliRun.Of("tokenizer", "train", "--input", WriteCorpus(), "--vocab-size", "265", "--out", PathOf("other")).ExitCode);
        CliRun.Of("detokenize", "--tokenizer", PathOf("other"), "--input", tokens, "--out", PathOf("back.txt"))
            .AssertOneLineError("expected tokenizerHash");
    }

    [Fact]
    public void Train_OnMissingInput_ExitsWithOneLineError()
    {
        var run = CliRun.Of("tokenizer", "train", "--input", PathOf("missing.txt"), "--out", PathOf("tok"));
        run.AssertOneLineError("missing.txt");
        Assert.False(Directory.Exists(PathOf("tok")));
    }

    [Fact]
    public void Train_WithVocabSizeBelowBytesAndSpecials_ExitsWithOneLineError() =>
        CliRun.Of("tokenizer", "train", "--input", WriteCorpus(), "--vocab-size", "200", "--special", "<|endoftext|>", "--out", PathOf("tok"))
            .AssertOneLineError("257");

    [Fact]
    public void Tokenize_WithMissingTokenizer_ExitsWithOneLineError() =>
        CliRun.Of("tokenize", "--tokenizer", PathOf("no-tok"), "--input", WriteCorpus(), "--out", PathOf("x.tokens"))
            .AssertOneLineError("no-tok");

    [Fact]
    public void Tokenize_OnInvalidUtf8_ExitsWithTheByteOffsetAndWritesNothing()
    {
        string corpus = WriteCorpus();
        CliRun.Of("tokenizer", "train", "--input", corpus, "--vocab-size", "260", "--out", PathOf("tok"));
        string latin1 = PathOf("latin1.txt");
        File.WriteAllBytes(latin1, [.. "na"u8, 0xEF, .. "ve"u8]);

        CliRun.Of("tokenize", "--tokenizer", PathOf("tok"), "--input", latin1, "--out", PathOf("x.tokens"))
            .AssertOneLineError("byte offset 2");
        Assert.Empty(Directory.GetFiles(_directory, "x.tokens*"));
        Assert.Empty(Directory.GetFiles(_directory, ".x.tokens*"));
    }

    [Theory]
    [InlineData("tokenizer", "--vocab-size")]
    [InlineData("tokenize", "--tokenizer")]
    [InlineData("detokenize", "--input")]
    public void Help_OnEveryVerb_DescribesItsOptions(string verb, string option)
    {
        string[] args = verb == "tokenizer" ? ["tokenizer", "train", "--help"] : [verb, "--help"];
        var run = CliRun.Of(args);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains(option, run.Output);
        Assert.Contains("train", CliRun.Of("tokenizer", "--help").Output);
    }
}
