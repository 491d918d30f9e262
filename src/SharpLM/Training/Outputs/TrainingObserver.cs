namespace SharpLM.Training;

/// <summary>Where a run is, reported at every log interval.</summary>
public sealed record TrainingProgress(
    long Step,
    long TotalSteps,
    double? TrainLoss,
    double LearningRate,
    double? GradientNorm,
    double TokensPerSecond,
    TimeSpan Elapsed,
    TimeSpan? Remaining);

/// <summary>Receives a run's progress; the CLI renders it, tests record it.</summary>
public interface ITrainingObserver
{
    void OnProgress(TrainingProgress progress);

    void OnEvaluation(long step, EvaluationResult result);

    void OnCheckpoint(long step, string path);

    void OnMessage(string message);
}

/// <summary>Why a run stopped.</summary>
public enum TrainingStopReason
{
    Completed,

    /// <summary>Cancelled (Ctrl+C); a checkpoint of the last finished step was saved.</summary>
    Interrupted,

    /// <summary>The loss or the gradient became NaN or infinite; the last good checkpoint is kept.</summary>
    NonFiniteLoss,
}

/// <summary>How a run ended.</summary>
public sealed record TrainingOutcome(
    TrainingStopReason Reason,
    long Step,
    EvaluationResult? LastEvaluation,
    double? LastTrainLoss,
    string? LastCheckpoint,
    string? Message);

/// <summary>An observer that ignores everything, for runs nobody watches.</summary>
public sealed class SilentTrainingObserver : ITrainingObserver
{
    public static SilentTrainingObserver Instance { get; } = new();

    public void OnProgress(TrainingProgress progress) { }

    public void OnEvaluation(long step, EvaluationResult result) { }

    public void OnCheckpoint(long step, string path) { }

    public void OnMessage(string message) { }
}
