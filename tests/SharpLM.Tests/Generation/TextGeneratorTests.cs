using SharpLM.Generation;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Generation;

/// <summary>Generation from a micro model trained on one repeated document, so its continuation is known.</summary>
[Collection(ProcessMemoryCollection.Name)]
public sealed class TextGeneratorTests : IClassFixture<TextGeneratorTests.MicroModel>
{
    const string Document = "Hi there, friend!";
    readonly MicroModel micro;

    public TextGeneratorTests(MicroModel micro) => this.micro = micro;

    public sealed class MicroModel : IDisposable
    {
        readonly string directory = Directory.CreateTempSubdirectory("sharplm-generate-").FullName;

        public MicroModel()
        {
            string corpus = Path.Combine(directory, "corpus.txt");
            File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(Document + "<|endoftext|>", 400)));
            var config = new TrainingConfig
            {
                Train = corpus,
                VocabSize = 270,
                ContextLength = 16,
                DModel = 32,
                NumLayers = 1,
                NumHeads = 2,
                DFf = 64,
                BatchSize = 8,
                Steps = 150,
                WarmupIters = 10,
                MaxLearningRate = 1e-2,
                MinLearningRate = 1e-3,
                CheckpointInterval = 1000,
                RunDirectory = Path.Combine(directory, "run"),
            };
            using (var session = TrainingSession.Create(config, resume: false))
            {
                session.Train(SilentTrainingObserver.Instance);
            }
            Trained = TrainedModel.Load(config.RunDirectory!, null, CPU);
        }

        public TrainedModel Trained { get; }

        public void Dispose()
        {
            Trained.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }


    [Fact]
    public void Generate_Greedy_CompletesTheDocumentAndStopsAtEndOfText()
    {
        var pieces = new List<string>();
        var result = TextGenerator.Generate(micro.Trained.Model, micro.Trained.Tokenizer, "Hi",
            new GenerationOptions { Temperature = 0, MaxTokens = 50 }, pieces.Add);
        Assert.Equal(" there, friend!", result.Text);
        Assert.True(result.StoppedAtStopToken);
        Assert.Equal(result.Text, string.Concat(pieces));
        Assert.True(pieces.Count > 1, "text should stream piece by piece");
    }

    [Fact]
    public void Generate_WithTokenLimit_StopsAtTheLimit()
    {
        var result = TextGenerator.Generate(micro.Trained.Model, micro.Trained.Tokenizer, "Hi",
            new GenerationOptions { Temperature = 0, MaxTokens = 2 });
        Assert.Equal(2, result.TokenIds.Count);
        Assert.False(result.StoppedAtStopToken);
    }

    [Fact]
    public void Generate_BeyondTheContextWindow_SlidesTheWindow()
    {
        // Without a stop token the model keeps writing documents; 60 tokens far exceed the 16-token context.
        var result = TextGenerator.Generate(micro.Trained.Model, micro.Trained.Tokenizer, "Hi",
            new GenerationOptions { Temperature = 0, MaxTokens = 60, StopToken = null });
        Assert.Equal(60, result.TokenIds.Count);
        Assert.Contains("friend!", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_WithSameSeed_GivesSameText_AndOtherSeedsVary()
    {
        GenerationResult Run(long seed) => TextGenerator.Generate(micro.Trained.Model, micro.Trained.Tokenizer, "",
            new GenerationOptions { Temperature = 3, MaxTokens = 12, Seed = seed, StopToken = null });
        Assert.Equal(Run(1).TokenIds, Run(1).TokenIds);
        var first = Run(1).TokenIds;
        Assert.Contains(Enumerable.Range(2, 5), seed => !Run(seed).TokenIds.SequenceEqual(first));
    }

    [Fact]
    public void GenerateSamples_WithAFixedSeed_GiveTheSameTextsWhateverTheBatchSize()
    {
        var options = new GenerationOptions { Temperature = 3, MaxTokens = 20, Seed = 9, StopToken = null };
        IReadOnlyList<string> Texts(int batchSize) => [.. TextGenerator.GenerateSamples(micro.Trained.Model, micro.Trained.Tokenizer, "Hi",
            options, sampleCount: 5, batchSize).Samples.Select(sample => sample.Text)];
        var alone = Texts(1);
        Assert.Equal(alone, Texts(5));
        Assert.Equal(alone, Texts(2));
        Assert.True(alone.Distinct().Count() > 1, "samples with different seeds should differ");
        Assert.Equal(alone[0], TextGenerator.Generate(micro.Trained.Model, micro.Trained.Tokenizer, "Hi", options).Text);
        Assert.Equal(alone[3], TextGenerator.Generate(micro.Trained.Model, micro.Trained.Tokenizer, "Hi", options with { Seed = 12 }).Text);
    }

    [Fact]
    public void GenerateSamples_StreamsEachSamplesPiecesUnderItsIndex()
    {
        var pieces = new Dictionary<int, string>();
        var run = TextGenerator.GenerateSamples(micro.Trained.Model, micro.Trained.Tokenizer, "Hi",
            new GenerationOptions { Temperature = 2, MaxTokens = 10, StopToken = null }, sampleCount: 3, batchSize: 3,
            (sample, piece) => pieces[sample] = pieces.GetValueOrDefault(sample, "") + piece);
        Assert.Equal(run.Samples.Select(sample => sample.Text), Enumerable.Range(0, 3).Select(sample => pieces[sample]));
        Assert.Equal(micro.Trained.Tokenizer.Encode("Hi").Length, run.Stats.PromptTokens);
        Assert.Equal(3 * 9, run.Stats.DecodedTokens); // the first token of each comes from the prompt's logits
    }

    [Fact]
    public void Generate_IgnoringEos_WritesPastTheEndOfText()
    {
        var result = TextGenerator.Generate(micro.Trained.Model, micro.Trained.Tokenizer, "Hi",
            new GenerationOptions { Temperature = 0, MaxTokens = 30, IgnoreEos = true });
        Assert.Equal(30, result.TokenIds.Count);
        Assert.StartsWith(" there, friend!<|endoftext|>", result.Text, StringComparison.Ordinal);
        Assert.False(result.StoppedAtStopToken);
    }

    [Fact]
    public void Generate_WithStopStrings_EndsBeforeTheFirstOne()
    {
        var pieces = new List<string>();
        var result = TextGenerator.Generate(micro.Trained.Model, micro.Trained.Tokenizer, "Hi",
            new GenerationOptions { Temperature = 0, MaxTokens = 50, StopStrings = ["nothing", "e, fr"] }, pieces.Add);
        Assert.Equal(" ther", result.Text);
        Assert.Equal(result.Text, string.Concat(pieces));
        Assert.True(result.StoppedAtStopToken);
    }
}
