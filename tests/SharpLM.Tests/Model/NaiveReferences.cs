using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

/// <summary>Element-by-element references written from the handout's definitions, in float64, for tiny tensors.</summary>
static class NaiveReferences
{
    /// <summary>
    /// Rotates every pair (x₂ₖ, x₂ₖ₊₁) of (..., seq, d) by pos/θ^(2k/d), with one position per (..., seq) entry.
    /// </summary>
    public static Tensor RotatePairs(Tensor input, Tensor positions, double theta)
    {
        Assert.Equal(input.shape[..^1], positions.shape);
        long d = input.shape[^1];
        double[] x = input.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        long[] position = positions.to(ScalarType.Int64).contiguous().data<long>().ToArray();
        var rotated = new double[x.Length];
        for (long row = 0; row < position.Length; row++)
        {
            for (long k = 0; k < d / 2; k++)
            {
                double angle = position[row] / Math.Pow(theta, 2.0 * k / d);
                double even = x[row * d + 2 * k];
                double odd = x[row * d + 2 * k + 1];
                rotated[row * d + 2 * k] = even * Math.Cos(angle) - odd * Math.Sin(angle);
                rotated[row * d + 2 * k + 1] = even * Math.Sin(angle) + odd * Math.Cos(angle);
            }
        }
        return tensor(rotated, input.shape);
    }

    /// <summary>
    /// Causal multi-head self-attention of (seq, dModel) computed one head at a time with the heads' slices of
    /// the projection weights, as eqs. 12–14 write it; RoPE (positions 0…seq−1) when <paramref name="ropeTheta"/> is set.
    /// </summary>
    public static Tensor PerHeadAttention(
        Tensor input, Tensor queryWeight, Tensor keyWeight, Tensor valueWeight, Tensor outputWeight, int numHeads, double? ropeTheta)
    {
        using var scope = NewDisposeScope();
        var x = input.detach().to(ScalarType.Float64);
        long sequenceLength = x.shape[0];
        long dModel = x.shape[1];
        long headSize = dModel / numHeads;
        var positions = HeldScalarMath.Range(sequenceLength);
        var heads = new List<Tensor>();
        for (int head = 0; head < numHeads; head++)
        {
            Tensor Slice(Tensor weight) => weight.detach().to(ScalarType.Float64).narrow(0, head * headSize, headSize);
            var q = x.matmul(Slice(queryWeight).t()); // (seq, dHead)
            var k = x.matmul(Slice(keyWeight).t());
            var v = x.matmul(Slice(valueWeight).t());
            if (ropeTheta is double theta)
            {
                q = RotatePairs(q, positions, theta);
                k = RotatePairs(k, positions, theta);
            }
            var scores = q.matmul(k.t()).Over(Math.Sqrt(headSize)); // (seq, seq)
            for (long i = 0; i < sequenceLength; i++)
            {
                for (long j = i + 1; j < sequenceLength; j++)
                {
                    scores[i, j] = double.NegativeInfinity;
                }
            }
            heads.Add(softmax(scores, -1).matmul(v)); // (seq, dHead)
        }
        var merged = cat(heads, -1); // (seq, dModel)
        return merged.matmul(outputWeight.detach().to(ScalarType.Float64).t()).MoveToOuterDisposeScope();
    }
}
