using SharpLM.Model;

namespace SharpLM.Accounting;

/// <summary>
/// Wall-clock time of a training run predicted from its FLOPs (handout §4.3, adamwAccounting (d)): every step costs
/// <see cref="FlopAccounting.TrainingStep"/>, done at <c>peak × MFU</c> FLOP/s.
/// </summary>
public sealed record TrainingTime(
    long Steps,
    int BatchSize,
    int ContextLength,
    long FlopsPerStep,
    double PeakFlopsPerSecond,
    double ModelFlopsUtilization)
{
    const double SecondsPerDay = 24 * 60 * 60;

    /// <param name="peakFlopsPerSecond">The hardware's peak, e.g. 19.5e12 for an A100 in float32.</param>
    /// <param name="modelFlopsUtilization">The fraction of the peak achieved, in (0, 1].</param>
    /// <exception cref="ArgumentException">A count is not positive, the peak is not positive and finite, or the MFU is outside (0, 1].</exception>
    /// <exception cref="OverflowException">The FLOPs of one step exceed 64 bits.</exception>
    public static TrainingTime ForSteps(
        TransformerConfig config, long steps, int batchSize, double peakFlopsPerSecond, double modelFlopsUtilization)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (!(peakFlopsPerSecond > 0) || double.IsInfinity(peakFlopsPerSecond))
        {
            throw new ArgumentOutOfRangeException(
                nameof(peakFlopsPerSecond), peakFlopsPerSecond, "The peak FLOP/s must be positive and finite.");
        }
        if (!(modelFlopsUtilization > 0 && modelFlopsUtilization <= 1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(modelFlopsUtilization), modelFlopsUtilization, "The MFU must be in (0, 1].");
        }
        return new TrainingTime(
            steps, batchSize, config.ContextLength, FlopAccounting.TrainingStep(config, batchSize), peakFlopsPerSecond, modelFlopsUtilization);
    }

    /// <summary>As many steps of batchSize × context_length tokens as cover the token budget, the last one whole.</summary>
    /// <exception cref="ArgumentException">As <see cref="ForSteps"/>, or the token budget is not positive.</exception>
    public static TrainingTime ForTokens(
        TransformerConfig config, long tokens, int batchSize, double peakFlopsPerSecond, double modelFlopsUtilization)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        long tokensPerStep = checked((long)batchSize * config.ContextLength);
        long steps = tokens / tokensPerStep + (tokens % tokensPerStep == 0 ? 0 : 1);
        return ForSteps(config, steps, batchSize, peakFlopsPerSecond, modelFlopsUtilization);
    }

    public double Tokens => (double)Steps * BatchSize * ContextLength;

    /// <summary>A double: 400K steps of GPT-2 XL at batch 1024 are 5.5·10²¹ FLOPs, past 2⁶³.</summary>
    public double TotalFlops => (double)Steps * FlopsPerStep;

    public double AchievedFlopsPerSecond => PeakFlopsPerSecond * ModelFlopsUtilization;

    public double Seconds => TotalFlops / AchievedFlopsPerSecond;

    public double Days => Seconds / SecondsPerDay;
}
