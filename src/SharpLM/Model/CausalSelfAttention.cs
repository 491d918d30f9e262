using SharpLM.Precision;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Causal multi-head self-attention W_O · MultiHead(W_Q x, W_K x, W_V x) (eqs. 12–14) with d_k = d_v = dModel/numHeads.
/// All heads go through one batched kernel call; RoPE, when given, rotates queries and keys but not values.
/// </summary>
public sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "q_proj")]
    readonly Linear queryProjection;

    [ComponentName(Name = "k_proj")]
    readonly Linear keyProjection;

    [ComponentName(Name = "v_proj")]
    readonly Linear valueProjection;

    [ComponentName(Name = "output_proj")]
    readonly Linear outputProjection;

    // Shared between layers and parameter-free, so it adds nothing to the state dict.
    readonly Rope? rope;

    public CausalSelfAttention(
        long dModel,
        long numHeads,
        Rope? rope = null,
        AttentionKernel kernel = AttentionKernel.Fused,
        Device? device = null,
        ScalarType? dtype = null,
        Generator? generator = null)
        : base(nameof(CausalSelfAttention))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dModel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        if (dModel % numHeads != 0)
        {
            throw new ArgumentException($"dModel {dModel} is not divisible by numHeads {numHeads}.", nameof(numHeads));
        }
        if (rope is not null && rope.DK != dModel / numHeads)
        {
            throw new ArgumentException(
                $"RoPE d_k {rope.DK} differs from the head size dModel/numHeads = {dModel}/{numHeads} = {dModel / numHeads}.",
                nameof(rope));
        }
        if (!Enum.IsDefined(kernel))
        {
            throw new ArgumentException($"Unknown attention kernel {kernel}.", nameof(kernel));
        }
        DModel = dModel;
        NumHeads = numHeads;
        Kernel = kernel;
        queryProjection = new Linear(dModel, dModel, device, dtype, generator);
        keyProjection = new Linear(dModel, dModel, device, dtype, generator);
        valueProjection = new Linear(dModel, dModel, device, dtype, generator);
        outputProjection = new Linear(dModel, dModel, device, dtype, generator);
        this.rope = rope;
        RegisterComponents();
    }

    public long DModel { get; }

    public long NumHeads { get; }

    public long HeadSize => DModel / NumHeads;

    public AttentionKernel Kernel { get; }

    public Linear QueryProjection => queryProjection;

    public Linear KeyProjection => keyProjection;

    public Linear ValueProjection => valueProjection;

    public Linear OutputProjection => outputProjection;

    public Rope? Rope => rope;

    /// <summary>Attends over (..., seq, dModel) with tokens at positions 0, 1, …, seq−1.</summary>
    public override Tensor forward(Tensor input) => Attend(input, tokenPositions: null);

    /// <summary>Attends over (..., seq, dModel) with the given (..., seq) token positions (used only by RoPE).</summary>
    public Tensor forward(Tensor input, Tensor tokenPositions)
    {
        ArgumentNullException.ThrowIfNull(tokenPositions);
        return Attend(input, tokenPositions);
    }

    /// <summary>
    /// Attends over (batch, seq, dModel) whose row b continues the sequence cached in <paramref name="caches"/>[b]:
    /// its tokens sit at the given (batch, seq) positions, and their keys and values join that cache.
    /// </summary>
    public Tensor forward(Tensor input, Tensor tokenPositions, IReadOnlyList<LayerKeyValues> caches)
    {
        ArgumentNullException.ThrowIfNull(tokenPositions);
        ArgumentNullException.ThrowIfNull(caches);
        if (input.dim() != 3 || input.shape[0] != caches.Count)
        {
            throw new ArgumentException(
                $"Cached attention expects ({caches.Count}, seq, {DModel}), one row per cache, got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }
        return Attend(input, tokenPositions, caches);
    }

    Tensor Attend(Tensor input, Tensor? tokenPositions, IReadOnlyList<LayerKeyValues>? caches = null)
    {
        if (input.dim() < 2 || input.shape[^1] != DModel)
        {
            throw new ArgumentException(
                $"Attention expects (..., seq, {DModel}), got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }
        using var scope = NewDisposeScope();
        var query = SplitHeads(queryProjection.call(input)); // (..., heads, seq, dHead)
        var key = SplitHeads(keyProjection.call(input)); // (..., heads, seq, dHead)
        var value = SplitHeads(valueProjection.call(input)); // (..., heads, seq, dHead)

        if (rope is not null)
        {
            if (tokenPositions is null)
            {
                query = rope.forward(query);
                key = rope.forward(key);
            }
            else
            {
                var headPositions = tokenPositions.unsqueeze(-2); // (..., 1, seq): the same rotation for every head
                query = rope.forward(query, headPositions);
                key = rope.forward(key, headPositions);
            }
        }

        var heads = caches is not null ? AttendCached(query, key, value, caches) : Kernel switch // (..., heads, seq, dHead)
        {
            AttentionKernel.Reference => Functional.ScaledDotProductAttention(query, key, value, CausalMask(input.shape[^2], input.device)),
            AttentionKernel.Fused => nn.functional.scaled_dot_product_attention(
                Autocast.ForFusedAttention(query), Autocast.ForFusedAttention(key), Autocast.ForFusedAttention(value), is_casual: true),
            _ => throw new InvalidOperationException($"Unknown attention kernel {Kernel}."),
        };
        var merged = heads.transpose(-3, -2).flatten(-2); // (..., seq, dModel): eq. 12
        return outputProjection.call(merged).MoveToOuterDisposeScope(); // (..., seq, dModel): eq. 14
    }

    /// <summary>
    /// Each row's (heads, seq, dHead) queries against its cache after the new keys and values join it; rows have
    /// caches of different lengths, so they attend one by one (the projections around them run batched).
    /// </summary>
    Tensor AttendCached(Tensor query, Tensor key, Tensor value, IReadOnlyList<LayerKeyValues> caches)
    {
        var rows = new Tensor[caches.Count];
        for (int row = 0; row < rows.Length; row++)
        {
            var (cachedKeys, cachedValues) = caches[row].Append(key[row], value[row]); // (heads, cached, dHead)
            rows[row] = AttendToCache(query[row], cachedKeys, cachedValues); // (heads, seq, dHead)
        }
        return rows.Length == 1 ? rows[0].unsqueeze(0) : stack(rows); // (batch, heads, seq, dHead)
    }

    /// <summary>The seq queries are the last seq of the cached positions: query i attends to keys j ≤ cached − seq + i.</summary>
    Tensor AttendToCache(Tensor query, Tensor key, Tensor value)
    {
        long queries = query.shape[^2];
        long keys = key.shape[^2];
        // One query (a decode step) sees every cached key: no mask.
        var mask = queries == 1 ? null : ones(queries, keys, ScalarType.Bool, query.device).tril(keys - queries); // (seq, cached)
        return Kernel switch
        {
            AttentionKernel.Reference => Functional.ScaledDotProductAttention(query, key, value, mask),
            AttentionKernel.Fused => nn.functional.scaled_dot_product_attention(
                Autocast.ForFusedAttention(query), Autocast.ForFusedAttention(key), Autocast.ForFusedAttention(value),
                attn_mask: queries == keys ? null : mask, is_casual: queries > 1 && queries == keys),
            _ => throw new InvalidOperationException($"Unknown attention kernel {Kernel}."),
        };
    }

    Tensor SplitHeads(Tensor projected) =>
        projected.unflatten(projected.dim() - 1, [NumHeads, HeadSize]).transpose(-3, -2); // (..., seq, d) → (..., heads, seq, dHead)

    /// <summary>(seq, seq), true on and below the diagonal: query i attends to keys j ≤ i.</summary>
    static Tensor CausalMask(long sequenceLength, Device device) =>
        ones(sequenceLength, sequenceLength, ScalarType.Bool, device).tril();
}
