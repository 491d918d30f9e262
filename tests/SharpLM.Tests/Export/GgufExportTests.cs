using System.Text.Json;
using SharpLM.Cli;
using SharpLM.Export;
using SharpLM.Generation;
using SharpLM.Model;
using SharpLM.Tests.Cli;
using SharpLM.Tests.Tokenization;
using SharpLM.Tokenization;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Export;

/// <summary>`sharplm export --format gguf` checked by real llama.cpp (LLamaSharp's CPU backend, in-process).</summary>
[Collection(TrainedRunCollection.Name)]
public sealed class GgufExportTests(TrainedRunFixture run)
{
    /// <summary>Strings where tokenizers tend to differ: scripts, emoji sequences, whitespace runs, contractions, specials.</summary>
    public static TheoryData<string> EdgeCases() =>
    [
        "", " ", "   ", "\n", "\n\n\n", "\t", "\r\n", " \n ", "a  b   c    d", "trailing space ", " leading space",
        "Hello , world . Is it ? Yes !", "don't you'll I'm we've they're she'd it's", "'s 'S 'll", "ABC'S",
        "numbers 1234567890 3.14159 -42 1e10", "punctuation!!! ?? ... ,,, ;;; --- ___", "(parens) [brackets] {braces}",
        "héllo wörld çà", "e\u0301 combining", "日本語のテキスト", "中文字符", "한국어", "Ελληνικά русский", "العربية עברית",
        "हिन्दी ภาษาไทย", "emoji 🙂🙃", "family 👩‍👩‍👧‍👦", "flag 🇫🇷", "zero\u200Bwidth", "\u00A0nbsp\u00A0", "\uFEFFbom",
        "<|endoftext|>", "a<|endoftext|>b", "Once upon a time<|endoftext|>\nThe end.", "<|endoftext", "Ġ Ċ ĉ",
        "x\u0000y", "\u007F\u0080\u00FF", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛",
    ];

    string Gguf(ExportDType dtype) => run.File($"model-{dtype}.gguf", path =>
    {
        var export = CliRun.Of("export", "--checkpoint", run.Run, "--format", "gguf", "--dtype", dtype.ToString().ToLowerInvariant(), "--out", path);
        Assert.True(export.ExitCode == ExitCodes.Success, export.Error);
    });

    string GgufWithPreTokenizer(string preTokenizer) => run.File($"model-pre-{preTokenizer}.gguf", path =>
    {
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        GgufExport.Write(trained.Model, trained.Tokenizer, "pre", ExportDType.F32, path, preTokenizer);
    });

    /// <summary>An untrained model over GPT-2's 50,257 tokens: the tokenizer checks need a real merge table, not trained weights.</summary>
    string Gpt2Gguf(string preTokenizer = GgufExport.PreTokenizer) => run.File($"gpt2-vocabulary-{preTokenizer}.gguf", path =>
    {
        var config = new TransformerConfig(VocabSize: Gpt2Reference.Tokenizer.VocabularySize, ContextLength: 16, DModel: 8, NumLayers: 1, NumHeads: 2, DFf: 16, RopeTheta: 10_000);
        using var model = new TransformerLM(config, CPU, generator: new Generator(7));
        GgufExport.Write(model, Gpt2Reference.Tokenizer, "gpt2-vocabulary", ExportDType.F32, path, preTokenizer);
    });

    TrainedModel Trained() => TrainedModel.Load(run.Run, null, CPU);

    int ContextLength
    {
        get
        {
            using var trained = Trained();
            return trained.Model.Config.ContextLength;
        }
    }

    [Fact]
    public void Export_Gguf_LlamaCppReadsTheLlamaArchitectureAndTheTokenizer()
    {
        using var trained = Trained();
        using var llama = new LlamaCppModel(Gguf(ExportDType.F32), (uint)ContextLength + 1);
        var config = trained.Model.Config;
        Assert.Equal("llama", llama.Metadata["general.architecture"]);
        Assert.Equal("gpt2", llama.Metadata["tokenizer.ggml.model"]);
        Assert.Equal(GgufExport.PreTokenizer, llama.Metadata["tokenizer.ggml.pre"]);
        Assert.Equal(config.NumLayers.ToString(), llama.Metadata["llama.block_count"]);
        Assert.Equal(config.HeadSize.ToString(), llama.Metadata["llama.rope.dimension_count"]);
        Assert.Equal(trained.Tokenizer.VocabularySize, llama.VocabularySize);
        Assert.Equal(trained.Tokenizer.SpecialTokenId("<|endoftext|>").ToString(), llama.Metadata["tokenizer.ggml.eos_token_id"]);
    }

    [SharedDataTheory]
    [MemberData(nameof(TextFiles.All), MemberType = typeof(TextFiles))]
    public void Tokenize_EveryTextInSharedData_LlamaCppIdsEqualSharpLMs(string relativePath)
    {
        string text = File.ReadAllText(SharedData.Path(relativePath));
        using var trained = Trained();
        using var llama = new LlamaCppModel(Gguf(ExportDType.F32), (uint)ContextLength + 1);
        SequenceAssert.Equal(trained.Tokenizer.Encode(text), llama.Tokenize(text));
    }

    [SharedDataTheory]
    [MemberData(nameof(TextFiles.All), MemberType = typeof(TextFiles))]
    public void Tokenize_EveryTextInSharedData_WithGpt2sVocabulary_LlamaCppIdsEqualSharpLMs(string relativePath)
    {
        string text = File.ReadAllText(SharedData.Path(relativePath));
        using var llama = new LlamaCppModel(Gpt2Gguf(), 17);
        SequenceAssert.Equal(Gpt2Reference.Tokenizer.Encode(text), llama.Tokenize(text));
    }

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Tokenize_EdgeCase_LlamaCppIdsEqualSharpLMsAndItsDetokenizerRoundTrips(string text)
    {
        using var trained = Trained();
        using var llama = new LlamaCppModel(Gguf(ExportDType.F32), (uint)ContextLength + 1);
        int[] ids = llama.Tokenize(text);
        Assert.Equal(trained.Tokenizer.Encode(text), ids);
        Assert.Equal(text, llama.Detokenize(ids));
    }

    [Fact]
    public void Detokenize_WithTheGpt2PreTokenizer_TokenizesAlikeButDropsSpacesBeforePunctuation()
    {
        const string text = "Hello , world . Is it ? Yes !";
        using var trained = Trained();
        using var gpt2 = new LlamaCppModel(GgufWithPreTokenizer("gpt-2"), (uint)ContextLength + 1);
        int[] ids = gpt2.Tokenize(text);
        Assert.Equal(trained.Tokenizer.Encode(text), ids);
        Assert.Equal("Hello, world. Is it? Yes!", gpt2.Detokenize(ids));
    }

    [SharedDataFact]
    public void Tokenize_WithTheDefaultPreTokenizer_DiffersFromSharpLM()
    {
        // "default" splits punctuation and digit runs apart first: the reason the export names its pre-tokenizer.
        const string text = "He said (quietly): \"it's 12345!\"";
        using var other = new LlamaCppModel(Gpt2Gguf("default"), 17);
        Assert.NotEqual(Gpt2Reference.Tokenizer.Encode(text), other.Tokenize(text));
        using var chosen = new LlamaCppModel(Gpt2Gguf(), 17);
        Assert.Equal(Gpt2Reference.Tokenizer.Encode(text), chosen.Tokenize(text));
    }

    [Theory]
    [InlineData(ExportDType.F32, 1e-4)]
    [InlineData(ExportDType.F16, 5e-4)]
    [InlineData(ExportDType.BF16, 5e-3)]
    public void NegativeLogLikelihood_OfHeldOutText_EqualsSharpLMEvaluateOnTheSameWindows(ExportDType dtype, double tolerance)
    {
        var evaluate = CliRun.Of("evaluate", "--checkpoint", run.Run, "--data", run.HeldOutText, "--json");
        Assert.True(evaluate.ExitCode == ExitCodes.Success, evaluate.Error);
        double expected = JsonDocument.Parse(evaluate.Output).RootElement.GetProperty("loss").GetDouble();

        using var trained = Trained();
        int[] ids = trained.Tokenizer.Encode(File.ReadAllText(run.HeldOutText));
        using var llama = new LlamaCppModel(Gguf(dtype), (uint)ContextLength + 1);
        double total = 0;
        long count = 0;
        foreach (var window in EvaluationWindows.Strided(ids.Length, ContextLength, ContextLength))
        {
            double[] logProbabilities = llama.NextTokenLogProbabilities(ids.AsSpan((int)window.Start, window.Length + 1));
            for (int position = window.FirstScored; position < window.Length; position++)
            {
                total -= logProbabilities[position];
                count++;
            }
        }
        Assert.Equal(ids.Length - 1, count);
        double difference = Math.Abs(total / count - expected);
        Assert.True(difference <= tolerance, $"{dtype}: llama.cpp {total / count:F6}, sharplm evaluate {expected:F6}, difference {difference:E2} > {tolerance:E0}");
    }

    /// <summary>
    /// The tied model's GGUF has no output.weight; llama.cpp then multiplies by token_embd.weight, so its log-probabilities
    /// equal SharpLM's (an untrained model: only the head's source is in question).
    /// </summary>
    [Fact]
    public void Export_Gguf_OfATiedModel_LlamaCppTakesTheHeadFromTheTokenEmbeddings()
    {
        using var trained = Trained();
        var config = new TransformerConfig(trained.Tokenizer.VocabularySize, 16, 16, 1, 2, 64, 10_000, TieEmbeddings: true);
        using var model = new TransformerLM(config, CPU, generator: new Generator(8));
        string path = run.File("tied.gguf", file => GgufExport.Write(model, trained.Tokenizer, "tied", ExportDType.F32, file));
        int[] ids = [.. trained.Tokenizer.Encode("Once upon a time, there was a little dog who liked to run in the park.").Take(config.ContextLength + 1)];

        using var llama = new LlamaCppModel(path, (uint)config.ContextLength + 1);
        double[] theirs = llama.NextTokenLogProbabilities(ids);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logProbabilities = model.forward(tensor(ids[..^1].Select(id => (long)id).ToArray())).log_softmax(-1); // (seq, vocab)
        var ours = logProbabilities.gather(1, tensor(ids[1..].Select(id => (long)id).ToArray()).unsqueeze(1)).squeeze(1);
        TensorAssert.Close(ours, tensor(theirs).to(ScalarType.Float32), 1e-4, 1e-4);
    }

    [Fact]
    public void Greedy_F32_LlamaCppContinuesAsSharpLMFor32Tokens()
    {
        using var trained = Trained();
        const string prompt = "Once upon a time, there was a";
        var ours = TextGenerator.Generate(trained.Model, trained.Tokenizer, prompt,
            new GenerationOptions { MaxTokens = 32, Temperature = 0, StopToken = null });
        using var llama = new LlamaCppModel(Gguf(ExportDType.F32), (uint)ContextLength + 1);
        int[] promptIds = llama.Tokenize(prompt);
        Assert.Equal(trained.Tokenizer.Encode(prompt), promptIds);
        Assert.Equal(32, ours.TokenIds.Count);
        Assert.Equal(ours.TokenIds, llama.Greedy(promptIds, 32));
    }

    [Fact]
    public void Export_WithTwoTokensOfTheSameLlamaCppString_RefusesNamingThem()
    {
        // Byte 0x20 is "Ġ" through GPT-2's map; a special token "Ġ" is stored as its text: both are "Ġ" to llama.cpp.
        var vocabulary = Enumerable.Range(0, 256).ToDictionary(id => id, id => new[] { (byte)id });
        var tokenizer = new Tokenizer(vocabulary, [], ["Ġ"]);
        var config = new TransformerConfig(VocabSize: 257, ContextLength: 8, DModel: 8, NumLayers: 1, NumHeads: 2, DFf: 16, RopeTheta: 10_000);
        using var model = new TransformerLM(config, CPU, generator: new Generator(1));
        string path = Path.Combine(run.Directory, "duplicate.gguf");
        var error = Assert.Throws<InvalidDataException>(() => GgufExport.Write(model, tokenizer, "duplicate", ExportDType.F32, path));
        Assert.Contains("tokens 32 and 256 are both \"Ġ\"", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Export_WithUnknownFormatOrDType_FailsWithOneLineError()
    {
        string path = Path.Combine(run.Directory, "bad.out");
        CliRun.Of("export", "--checkpoint", run.Run, "--format", "onnx", "--out", path).AssertOneLineError("unknown format \"onnx\"");
        CliRun.Of("export", "--checkpoint", run.Run, "--format", "gguf", "--dtype", "f8", "--out", path).AssertOneLineError("unknown dtype \"f8\"");
    }
}
