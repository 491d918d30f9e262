using System.Globalization;
using SharpLM.Data;
using SharpLM.Training;

// Trains a tiny model on SharpLM's built-in stories with the library's public API and prints each validation
// loss, one "eval <step> <loss>" line, for PackageTests to read.
string directory = args[0];
string train = Path.Combine(directory, "train.txt");
string validation = Path.Combine(directory, "val.txt");
StoryCorpus.Write(train, storyCount: 200, seed: 1);
StoryCorpus.Write(validation, storyCount: 20, seed: 2);
var config = new TrainingConfig
{
    Train = train,
    Val = validation,
    VocabSize = 300,
    ContextLength = 32,
    DModel = 32,
    NumLayers = 1,
    NumHeads = 2,
    DFf = 64,
    BatchSize = 8,
    Steps = 40,
    WarmupIters = 4,
    MaxLearningRate = 3e-3,
    MinLearningRate = 3e-4,
    EvalInterval = 40,
    EvalBatches = 4,
    CheckpointInterval = 40,
    RunDirectory = Path.Combine(directory, "run"),
};
using var session = TrainingSession.Create(config, resume: false);
var outcome = session.Train(new EvaluationPrinter());
Console.WriteLine($"outcome {outcome.Reason} {outcome.Step}");
return outcome.Reason == TrainingStopReason.Completed ? 0 : 1;

sealed class EvaluationPrinter : ITrainingObserver
{
    public void OnProgress(TrainingProgress progress) { }

    public void OnEvaluation(long step, EvaluationResult result) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"eval {step} {result.Loss:R}"));

    public void OnCheckpoint(long step, string path) { }

    public void OnMessage(string message) { }
}
