using SharpLM.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>Stateless operations of handout §3.5.4, written as the handout writes them.</summary>
public static class Functional
{
    /// <summary>
    /// Softmax along <paramref name="dim"/> (eq. 10), shifted by the maximum so that exp cannot overflow. The
    /// statistics of a half-precision input are taken in float32 and the result narrowed back to its dtype.
    /// </summary>
    public static Tensor Softmax(Tensor input, long dim)
    {
        using var scope = NewDisposeScope();
        var x = Autocast.Widen(input);
        var shifted = x - x.amax([dim], keepdim: true);
        var exponentials = shifted.exp();
        return (exponentials / exponentials.sum([dim], keepdim: true)).to(input.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// softmax(Q Kᵀ / √d_k) V (eq. 11) for query (..., queries, d_k), key (..., keys, d_k) and value (..., keys, d_v),
    /// with any number of leading dimensions. Where the boolean <paramref name="mask"/> (broadcastable to
    /// (..., queries, keys)) is false, the query does not attend to the key.
    /// </summary>
    /// <returns>(..., queries, d_v)</returns>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null)
    {
        if (query.dim() < 2 || key.dim() < 2 || value.dim() < 2)
        {
            throw new ArgumentException(
                $"Attention needs (..., seq, d) inputs, got query {Shape(query)}, key {Shape(key)}, value {Shape(value)}.");
        }
        if (query.shape[^1] != key.shape[^1])
        {
            throw new ArgumentException($"Query d_k {query.shape[^1]} differs from key d_k {key.shape[^1]}.", nameof(key));
        }
        if (key.shape[^2] != value.shape[^2])
        {
            throw new ArgumentException($"Key has {key.shape[^2]} positions but value has {value.shape[^2]}.", nameof(value));
        }
        if (mask is not null && mask.dtype != ScalarType.Bool)
        {
            throw new ArgumentException($"The mask must be boolean (true = attend), got {mask.dtype}.", nameof(mask));
        }

        using var scope = NewDisposeScope();
        // Held scalars: see Scalars.
        using var sqrtDk = Math.Sqrt(query.shape[^1]).ToScalar();
        using var minusInfinity = double.NegativeInfinity.ToScalar();
        var scores = Autocast.ForMatmul(query).matmul(Autocast.ForMatmul(key).transpose(-2, -1)).div_(sqrtDk); // (..., queries, keys)
        if (mask is not null)
        {
            scores = scores.masked_fill_(mask.logical_not(), minusInfinity);
        }
        var weights = Softmax(scores, -1); // (..., queries, keys)
        return weights.matmul(Autocast.ForMatmul(value)).MoveToOuterDisposeScope(); // (..., queries, d_v)
    }

    static string Shape(Tensor tensor) => $"[{string.Join(", ", tensor.shape)}]";
}
