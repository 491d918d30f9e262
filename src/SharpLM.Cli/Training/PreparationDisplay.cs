using SharpLM.Cli.Progress;
using SharpLM.Training;

namespace SharpLM.Cli.Training;

/// <summary>Shows data preparation (tokenizer training, encoding) as progress bars, one per task.</summary>
internal sealed class PreparationDisplay(ProgressBoard board) : IProgress<PreparationProgress>
{
    readonly Dictionary<string, ProgressBar> bars = [];

    public void Report(PreparationProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!bars.TryGetValue(value.Task, out var bar))
        {
            bool bytes = !value.Task.Contains("merging", StringComparison.Ordinal);
            bar = board.Add(value.Task, value.Total, bytes ? ProgressUnit.Bytes : ProgressUnit.Count);
            bars[value.Task] = bar;
        }
        bar.Update(value.Done, value.Total);
    }

    /// <summary>Runs <paramref name="work"/> with bars on the console while it prepares data.</summary>
    public static T Run<T>(TextWriter output, Func<IProgress<PreparationProgress>, T> work) =>
        ProgressDisplay.Run(output, board => work(new PreparationDisplay(board)));
}
