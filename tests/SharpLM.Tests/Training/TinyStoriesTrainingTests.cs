using SharpLM.Generation;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

/// <summary>The real-data check: a small model on the TinyStories sample in ../shared/data.</summary>
[Collection(ProcessMemoryCollection.Name)]
public sealed class TinyStoriesTrainingTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-tinystories-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);


    [SharedDataFact]
    public void ThreeHundredSteps_LowerValidationLossByTwoNats_AndGenerateEnglish()
    {
        var config = TinyStoriesSample.Config(Path.Combine(directory, "run"), steps: 300);
        using (var session = TrainingSession.Create(config, resume: false))
        {
            session.Train(SilentTrainingObserver.Instance);
        }

        var validation = MetricRecord.ReadAll(new RunDirectory(config.RunDirectory!).MetricsPath).Where(r => r.ValLoss is not null).ToList();
        Assert.Equal([0L, 300], validation.Select(r => r.Step));
        double drop = validation[0].ValLoss!.Value - validation[1].ValLoss!.Value;
        Assert.True(drop >= 2, $"validation loss went from {validation[0].ValLoss:F3} to {validation[1].ValLoss:F3}, a drop of {drop:F3} nats");

        using var trained = TrainedModel.Load(config.RunDirectory!, null, CPU);
        string text = TextGenerator.Generate(trained.Model, trained.Tokenizer, "Once upon a time",
            new GenerationOptions { MaxTokens = 80, Temperature = 0.7, TopP = 0.9, Seed = 1 }).Text;
        string[] words = text.Split([' ', '\n', '.', ',', '!', '"'], StringSplitOptions.RemoveEmptyEntries);
        string[] common = ["the", "a", "and", "was", "to", "she", "he", "they", "her", "his", "it", "day", "with"];
        Assert.True(words.Count(w => common.Contains(w.ToLowerInvariant())) >= 3, $"not English-looking: {text}");
    }
}
