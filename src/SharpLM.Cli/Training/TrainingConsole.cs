using System.Diagnostics;
using System.Globalization;
using SharpLM.Cli.Progress;
using SharpLM.Training;

namespace SharpLM.Cli.Training;

/// <summary>
/// Shows a run on the console: on a terminal one live status line (step, loss, lr, tokens/s, ETA) rewritten in
/// place; elsewhere (logs, CI, tests) a plain line every few seconds. Evaluations and checkpoints always get a line.
/// </summary>
internal sealed class TrainingConsole(TextWriter output, bool interactive) : ITrainingObserver
{
    static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);
    readonly Stopwatch sinceLastLine = Stopwatch.StartNew();
    bool statusShown;

    public static TrainingConsole For(TextWriter output) =>
        new(output, Terminal.IsInteractive(output));

    public void OnProgress(TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        string line = Describe(progress);
        if (interactive)
        {
            output.Write($"\r{line}\u001b[K");
            statusShown = true;
        }
        else if (sinceLastLine.Elapsed >= PlainInterval || progress.Step == progress.TotalSteps)
        {
            output.WriteLine(line);
            sinceLastLine.Restart();
        }
        output.Flush();
    }

    public void OnEvaluation(long step, EvaluationResult result) =>
        Line(string.Create(CultureInfo.InvariantCulture, $"step {step}: validation loss {result.Loss:F4}, perplexity {result.Perplexity:F2} ({result.Tokens:N0} tokens)"));

    public void OnCheckpoint(long step, string path) => Line($"step {step}: saved {path}");

    public void OnMessage(string message) => Line(message);

    /// <summary>Ends the live status line so that what follows starts on its own line.</summary>
    public void Finish()
    {
        if (statusShown)
        {
            output.WriteLine();
            statusShown = false;
        }
    }

    void Line(string text)
    {
        Finish();
        output.WriteLine(text);
        output.Flush();
    }

    static string Describe(TrainingProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"step {p.Step}/{p.TotalSteps} ({100.0 * p.Step / p.TotalSteps:F0}%) | loss {p.TrainLoss:F4} | lr {p.LearningRate:E2} | " +
        $"grad {p.GradientNorm:F2} | {p.TokensPerSecond:N0} tok/s | elapsed {Format(p.Elapsed)} | ETA {(p.Remaining is { } r ? Format(r) : "?")}");

    // Whole hours: a TimeSpan's "h" is the hours of the day and wraps at 24.
    internal static string Format(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}")
        : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
