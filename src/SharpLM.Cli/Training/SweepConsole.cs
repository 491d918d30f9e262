using System.Diagnostics;
using System.Globalization;
using SharpLM.Training;

namespace SharpLM.Cli.Training;

/// <summary>
/// One run of a sweep on the console: lines prefixed with the run's name, so that runs going in parallel can
/// share the output; progress every few seconds, every evaluation and checkpoint.
/// </summary>
internal sealed class SweepConsole(TextWriter output, string name) : ITrainingObserver
{
    static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(15);
    readonly Stopwatch sinceLastLine = Stopwatch.StartNew();

    public void OnProgress(TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (sinceLastLine.Elapsed >= ProgressInterval)
        {
            Line(string.Create(CultureInfo.InvariantCulture,
                $"step {progress.Step}/{progress.TotalSteps} | loss {progress.TrainLoss:F4} | lr {progress.LearningRate:E2} | {progress.TokensPerSecond:N0} tok/s | elapsed {TrainingConsole.Format(progress.Elapsed)}"));
        }
    }

    public void OnEvaluation(long step, EvaluationResult result) =>
        Line(string.Create(CultureInfo.InvariantCulture, $"step {step}: validation loss {result.Loss:F4}"));

    public void OnCheckpoint(long step, string path) => Line($"step {step}: saved {Path.GetFileName(path)}");

    public void OnMessage(string message) => Line(message);

    void Line(string text)
    {
        lock (output)
        {
            output.WriteLine($"[{name}] {text}");
            output.Flush();
        }
        sinceLastLine.Restart();
    }
}
