namespace SharpLM.Cli.Progress;

/// <summary>
/// Progress as plain lines for logs: each bar prints at most one line per interval while it runs and one
/// line when it reaches its total.
/// </summary>
internal sealed class PlainProgressBoard(TextWriter output, TimeSpan interval) : ProgressBoard
{
    readonly Lock _lock = new();
    readonly TextWriter _output = output;
    readonly TimeSpan _interval = interval;

    public override ProgressBar Add(string description, double total, ProgressUnit unit = ProgressUnit.Count) =>
        new PlainProgressBar(this, description, total, unit);

    sealed class PlainProgressBar(PlainProgressBoard board, string description, double total, ProgressUnit unit) : ProgressBar
    {
        readonly DateTime _start = DateTime.UtcNow;
        DateTime _lastLine = DateTime.UtcNow;
        bool _finished;

        public override void Update(double done, double? newTotal = null)
        {
            lock (board._lock)
            {
                total = newTotal ?? total;
                if (_finished)
                {
                    return;
                }
                DateTime now = DateTime.UtcNow;
                if (done >= total)
                {
                    _finished = true;
                    board._output.WriteLine($"{description}: done, {Amount(total)} in {(now - _start).TotalSeconds:F1} s");
                }
                else if (now - _lastLine >= board._interval)
                {
                    _lastLine = now;
                    board._output.WriteLine($"{description}: {100 * done / Math.Max(total, 1):F0}% ({Amount(done)} of {Amount(total)})");
                }
            }
        }

        string Amount(double value) => unit == ProgressUnit.Bytes ? $"{value / 1e6:F1} MB" : $"{value:N0}";
    }
}
