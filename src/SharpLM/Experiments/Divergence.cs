using SharpLM.Training;

namespace SharpLM.Experiments;

/// <summary>
/// When a run has diverged: its loss or gradient norm became NaN or infinite (the trainer logs the step that stopped
/// it so), or its loss rose above <see cref="Factor"/> times the first
/// loss it logged, the untrained model's step-0 validation loss when there is one (a model that learns nothing
/// stays near its start; one that blows up leaves it, often before its first training-loss line).
/// The sweep applies the rule while a run trains, to stop it early; compare applies it to finished runs.
/// </summary>
public sealed record Divergence(double Factor = Divergence.DefaultFactor)
{
    public const double DefaultFactor = 1.5;

    /// <summary>The first loss that breaks the rule, or null; the first loss of the sequence is the start.</summary>
    public double? FirstBreach(IEnumerable<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        double? start = null;
        foreach (double loss in losses)
        {
            if (!double.IsFinite(loss) || (start is { } first && loss > Factor * first))
            {
                return loss;
            }
            start ??= loss;
        }
        return null;
    }

    public bool IsDiverged(IEnumerable<MetricRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var all = records.ToList();
        return all.Any(r => r.GradientNorm is { } norm && !double.IsFinite(norm)) ||
            FirstBreach(all.SelectMany(r => new[] { r.ValLoss, r.TrainLoss }).OfType<double>()) is not null;
    }
}

/// <summary>
/// Passes a run's progress on and cancels the run the moment its loss breaks the <see cref="Divergence"/> rule.
/// A resumed run carries the start loss of its earlier part; a fresh one starts from its step-0 evaluation.
/// </summary>
public sealed class DivergenceWatch(Divergence rule, ITrainingObserver inner, CancellationTokenSource stop, double? startLoss = null) : ITrainingObserver
{
    double? start = startLoss;

    /// <summary>The loss that broke the rule, once it has.</summary>
    public double? Breach { get; private set; }

    public void OnProgress(TrainingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        inner.OnProgress(progress);
        if (progress.TrainLoss is { } loss)
        {
            Check(loss);
        }
    }

    void Check(double loss)
    {
        if (Breach is not null)
        {
            return;
        }
        Breach = rule.FirstBreach(start is { } first ? [first, loss] : [loss]);
        start ??= double.IsFinite(loss) ? loss : null;
        if (Breach is not null)
        {
            stop.Cancel();
        }
    }

    public void OnEvaluation(long step, EvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        inner.OnEvaluation(step, result);
        Check(result.Loss);
    }

    public void OnCheckpoint(long step, string path) => inner.OnCheckpoint(step, path);

    public void OnMessage(string message) => inner.OnMessage(message);
}
