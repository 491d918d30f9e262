namespace SharpLM.Training;

/// <summary>
/// One evaluation window: inputs are tokens [Start, Start + Length), targets are tokens [Start + 1, Start + Length],
/// and only the targets at window positions ≥ <see cref="FirstScored"/> count, so overlapping windows score each
/// target once.
/// </summary>
public readonly record struct EvaluationWindow(long Start, int Length, int FirstScored)
{
    public int ScoredCount => Length - FirstScored;
}

/// <summary>How a token sequence is cut into windows of at most the context length for evaluation.</summary>
public static class EvaluationWindows
{
    /// <summary>
    /// Windows of length L = min(contextLength, n − 1) whose ends advance by <paramref name="stride"/>; each
    /// scores the targets the previous one did not, and the last ends at the final token, so every target
    /// 1 … n − 1 is scored exactly once. With stride = contextLength the windows do not overlap (except the last,
    /// moved back to end at the final token); a smaller stride gives every scored target at least
    /// L − stride tokens of context.
    /// </summary>
    public static IReadOnlyList<EvaluationWindow> Strided(long tokenCount, int contextLength, int stride)
    {
        if (tokenCount < 2)
        {
            throw new ArgumentException($"evaluation needs at least 2 tokens, got {tokenCount}.", nameof(tokenCount));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contextLength);
        if (stride < 1 || stride > contextLength)
        {
            throw new ArgumentException($"stride must be in [1, {contextLength}] (the context length), got {stride}.", nameof(stride));
        }
        long lastTarget = tokenCount - 1;
        int length = (int)Math.Min(contextLength, lastTarget);
        var windows = new List<EvaluationWindow>();
        for (long scoredUpTo = 0; scoredUpTo < lastTarget;)
        {
            long end = windows.Count == 0 ? length : Math.Min(scoredUpTo + stride, lastTarget); // last target of the window
            long start = end - length;
            windows.Add(new EvaluationWindow(start, length, (int)(scoredUpTo - start)));
            scoredUpTo = end;
        }
        return windows;
    }

    /// <summary>
    /// Consecutive non-overlapping windows of exactly <paramref name="contextLength"/> from token 0, the tail that
    /// does not fill a window left out (the training loop's validation: the same windows at every evaluation).
    /// </summary>
    /// <param name="maxWindows">Stop after this many windows (null: as many as fit).</param>
    public static IReadOnlyList<EvaluationWindow> NonOverlapping(long tokenCount, int contextLength, long? maxWindows = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contextLength);
        if (tokenCount <= contextLength)
        {
            throw new ArgumentException(
                $"context length {contextLength} needs at least {contextLength + 1} tokens, got {tokenCount}.", nameof(contextLength));
        }
        long count = (tokenCount - 1) / contextLength;
        if (maxWindows is { } cap)
        {
            count = Math.Min(count, cap);
        }
        var windows = new EvaluationWindow[count];
        for (long i = 0; i < count; i++)
        {
            windows[i] = new EvaluationWindow(i * contextLength, contextLength, 0);
        }
        return windows;
    }
}
