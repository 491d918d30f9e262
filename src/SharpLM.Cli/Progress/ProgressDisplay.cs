using Spectre.Console;

namespace SharpLM.Cli.Progress;

/// <summary>
/// Shows the progress of long work: live Spectre.Console bars when the output is an interactive terminal,
/// otherwise (redirected output, CI logs, tests) a plain line per bar now and then and one when it finishes.
/// The work gets a <see cref="ProgressBoard"/> to add bars to; bars may be updated from any thread.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>How often a bar prints a plain line while it runs.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    public static T Run<T>(TextWriter output, Func<ProgressBoard, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Terminal.IsInteractive(output))
        {
            return work(new PlainProgressBoard(output, PlainInterval));
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context => work(new SpectreProgressBoard(context)));
    }
}

/// <summary>Where a piece of work adds its progress bars.</summary>
internal abstract class ProgressBoard
{
    /// <summary>Adds a bar that is full at <paramref name="total"/>, counted in <paramref name="unit"/>.</summary>
    public abstract ProgressBar Add(string description, double total, ProgressUnit unit = ProgressUnit.Count);
}

internal enum ProgressUnit
{
    Count,

    /// <summary>Shown in MB (10^6 bytes) in plain lines.</summary>
    Bytes,
}

/// <summary>One task's progress; <see cref="Update"/> at the total completes it.</summary>
internal abstract class ProgressBar
{
    public abstract void Update(double done, double? total = null);
}
