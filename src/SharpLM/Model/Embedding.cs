using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Token-id lookup into a (numEmbeddings, embeddingDim) matrix (handout §3.4.3), initialised N(0, std²) truncated at
/// ±3 std: the handout's std 1, or a smaller one for a matrix that is also the LM head.
/// </summary>
public sealed class Embedding : nn.Module<Tensor, Tensor>
{
    // Not readonly: Module.to() swaps parameters through reflection.
    Parameter weight;

    public Embedding(long numEmbeddings, long embeddingDim, Device? device = null, ScalarType? dtype = null, Generator? generator = null, double std = 1)
        : base(nameof(Embedding))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numEmbeddings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(std);
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;

        using var initial = empty([numEmbeddings, embeddingDim], dtype, device); // (vocab, d)
        Initialization.TruncatedNormal_(initial, 0, std, -3 * std, 3 * std, generator);
        weight = new Parameter(initial);
        RegisterComponents();
    }

    public long NumEmbeddings { get; }

    public long EmbeddingDim { get; }

    /// <summary>The (numEmbeddings, embeddingDim) matrix; a live reference, not a copy.</summary>
    public Parameter Weight => weight;

    /// <summary>Looks up (...) integer ids and returns (..., embeddingDim).</summary>
    /// <exception cref="ArgumentException">An id lies outside [0, numEmbeddings) or the ids are not integers.</exception>
    public override Tensor forward(Tensor tokenIds)
    {
        if (tokenIds.dtype is not (ScalarType.Int64 or ScalarType.Int32))
        {
            throw new ArgumentException($"Token ids must be Int64 or Int32, got {tokenIds.dtype}.", nameof(tokenIds));
        }
        if (tokenIds.numel() > 0)
        {
            // One host sync per call; an out-of-range index would otherwise be a native error (a device assert on CUDA).
            long low, high;
            using (NewDisposeScope())
            {
                low = tokenIds.min().to(ScalarType.Int64).item<long>();
                high = tokenIds.max().to(ScalarType.Int64).item<long>();
            }
            if (low < 0 || high >= NumEmbeddings)
            {
                long bad = low < 0 ? low : high;
                throw new ArgumentException(
                    $"Token id {bad} is outside the vocabulary [0, {NumEmbeddings}).", nameof(tokenIds));
            }
        }
        return weight[tokenIds]; // (..., d)
    }
}
