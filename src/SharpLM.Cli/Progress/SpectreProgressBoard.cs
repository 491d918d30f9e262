using Spectre.Console;

namespace SharpLM.Cli.Progress;

/// <summary>Live bars on an interactive terminal.</summary>
internal sealed class SpectreProgressBoard(ProgressContext context) : ProgressBoard
{
    public override ProgressBar Add(string description, double total, ProgressUnit unit = ProgressUnit.Count) =>
        new SpectreProgressBar(context.AddTask(Markup.Escape(description), autoStart: true, maxValue: Math.Max(total, 1)));

    sealed class SpectreProgressBar(ProgressTask task) : ProgressBar
    {
        public override void Update(double done, double? total = null)
        {
            if (total is { } newTotal)
            {
                task.MaxValue = Math.Max(newTotal, 1);
            }
            task.Value = Math.Min(done, task.MaxValue);
            if (done >= task.MaxValue)
            {
                task.StopTask();
            }
        }
    }
}
