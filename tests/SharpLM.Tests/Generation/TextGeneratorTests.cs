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
}
