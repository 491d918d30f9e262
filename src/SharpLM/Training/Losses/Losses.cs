using SharpLM.Numerics;
using SharpLM.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>Cross-entropy loss and perplexity of a language model (handout §4.1).</summary>
public static class Losses
{
    /// <summary>
    /// Mean over every batch position of −log softmax(oᵢ)[xᵢ₊₁] (eq. 16–17).
    /// </summary>
    /// <param name="logits">(..., vocab) unnormalised scores.</param>
    /// <param name="targets">(...) int64 ids in [0, vocab).</param>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets) => CrossEntropy(logits, targets, CrossEntropyKernel.Fused);

    /// <inheritdoc cref="CrossEntropy(Tensor, Tensor)"/>
    /// <param name="logits">(..., vocab) unnormalised scores.</param>
    /// <param name="targets">(...) int64 ids in [0, vocab).</param>
    /// <param name="kernel">How loss and gradient are computed; both kernels give the same numbers to float rounding.</param>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, CrossEntropyKernel kernel)
    {
        using var scope = NewDisposeScope();
        return CrossEntropyPerToken(logits, targets, kernel).mean().MoveToOuterDisposeScope(); // ()
    }

    /// <summary>
    /// −log softmax(oᵢ)[xᵢ₊₁] at every position, as log-sum-exp(oᵢ) − oᵢ[xᵢ₊₁] with the maximum subtracted
    /// first, so large logits cannot overflow and probabilities are never materialised.
    /// </summary>
    /// <returns>(...) per-position losses in float32 (or float64 for float64 logits).</returns>
    public static Tensor CrossEntropyPerToken(Tensor logits, Tensor targets) => CrossEntropyPerToken(logits, targets, CrossEntropyKernel.Fused);

    /// <inheritdoc cref="CrossEntropyPerToken(Tensor, Tensor)"/>
    /// <param name="logits">(..., vocab) unnormalised scores.</param>
    /// <param name="targets">(...) int64 ids in [0, vocab).</param>
    /// <param name="kernel">How loss and gradient are computed; both kernels give the same numbers to float rounding.</param>
    public static Tensor CrossEntropyPerToken(Tensor logits, Tensor targets, CrossEntropyKernel kernel)
    {
        ValidateTargets(logits, targets);
        using var scope = NewDisposeScope();
        // Half-precision logits would lose the loss's small differences; compute in float32.
        var scores = Autocast.Widen(logits);
        var losses = kernel switch
        {
            CrossEntropyKernel.Reference => ReferencePerToken(scores, targets),
            CrossEntropyKernel.Fused => FusedPerToken(scores, targets),
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown cross-entropy kernel."),
        };
        return losses.MoveToOuterDisposeScope();
    }

    /// <summary>The formula as autograd-tracked tensor operations.</summary>
    static Tensor ReferencePerToken(Tensor scores, Tensor targets)
    {
        var maximum = scores.amax([-1], keepdim: true).detach();            // (..., 1)
        // exp_ reuses the shifted copy: it is the only logits-sized tensor the forward pass allocates.
        var sumExp = (scores - maximum).exp_().sum(-1);                      // (...)
        var logSumExp = sumExp.log_().add_(maximum.squeeze(-1), Scalars.One); // (...)
        var targetScores = scores.gather(-1, targets.unsqueeze(-1)).squeeze(-1); // (...)
        return logSumExp - targetScores;
    }

    /// <summary>The formula as one autograd node with a hand-written backward (see <see cref="FusedCrossEntropy"/>).</summary>
    static Tensor FusedPerToken(Tensor scores, Tensor targets)
    {
        long vocabularySize = scores.shape[^1];
        // A 2-D input goes in as it is (even strided); reshaping other shapes is a view unless the layout forbids it.
        var rows = scores.dim() == 2 ? scores : scores.reshape(-1, vocabularySize); // (N, V)
        var flatTargets = targets.dim() == 1 ? targets : targets.reshape(-1);       // (N)
        return FusedCrossEntropy.Apply(rows, flatTargets).view(targets.shape);     // (...)
    }

    /// <summary>Perplexity exp(mean loss) of per-token losses (eq. 18).</summary>
    public static double Perplexity(Tensor perTokenLosses)
    {
        using var scope = NewDisposeScope();
        return Math.Exp(perTokenLosses.to_type(ScalarType.Float64).mean().item<double>());
    }

    static void ValidateTargets(Tensor logits, Tensor targets)
    {
        if (logits.dim() < 1)
        {
            throw new ArgumentException("logits must have a vocabulary dimension, got a scalar.", nameof(logits));
        }
        if (!logits.is_floating_point())
        {
            throw new ArgumentException($"logits must be floating point, got {logits.dtype}.", nameof(logits));
        }
        if (targets.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"targets must be int64 token ids, got {targets.dtype}.", nameof(targets));
        }
        long[] batchShape = logits.shape[..^1];
        if (!batchShape.SequenceEqual(targets.shape))
        {
            throw new ArgumentException(
                $"targets shape ({string.Join(", ", targets.shape)}) must equal logits shape without its last dimension ({string.Join(", ", batchShape)}).",
                nameof(targets));
        }
        if (targets.numel() == 0)
        {
            throw new ArgumentException("targets are empty: the mean loss of no tokens is undefined.", nameof(targets));
        }
        long vocabularySize = logits.shape[^1];
        using var scope = NewDisposeScope();
        long smallest = targets.min().item<long>();
        long largest = targets.max().item<long>();
        if (smallest < 0 || largest >= vocabularySize)
        {
            long offending = smallest < 0 ? smallest : largest;
            throw new ArgumentException($"target id {offending} is outside the vocabulary [0, {vocabularySize}).", nameof(targets));
        }
    }
}
