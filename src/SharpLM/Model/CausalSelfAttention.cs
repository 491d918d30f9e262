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
    /// its tokens' keys and values join that cache. <paramref name="angles"/> are the RoPE rotations of the rows'
    /// positions, shaped to broadcast over (batch, seq, heads, dHead) (see <see cref="RotaryAngles.ForHeads"/>); null
    /// without RoPE. <paramref name="fusedProjection"/> is null or <see cref="FuseProjections"/>'s weight, which
    /// computes the three projections in one product.
    /// </summary>
    public Tensor forward(Tensor input, RotaryAngles? angles, IReadOnlyList<LayerKeyValues> caches, Tensor? fusedProjection = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(caches);
        if (input.dim() != 3 || input.size(0) != caches.Count || input.size(2) != DModel)
        {
            throw new ArgumentException(
                $"Cached attention expects ({caches.Count}, seq, {DModel}), one row per cache, got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }
        if ((rope is null) != (angles is null))
        {
            throw new ArgumentException(rope is null ? "This attention has no RoPE to take angles." : "RoPE needs the rows' angles.", nameof(angles));
        }
        using var scope = NewDisposeScope();
        var (query, key, value) = Project(input, angles, fusedProjection); // (batch, seq, heads, dHead) each
        var heads = AttendCached(query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2), caches); // (batch, heads, seq, dHead)
        return MergeAndProject(heads).MoveToOuterDisposeScope(); // (batch, seq, dModel)
    }

    /// <summary>
    /// W_Q, W_K and W_V stacked into one (3·dModel, dModel) weight, in the autocast compute type, for decoding: one
    /// product instead of three. A copy: whoever fuses it owns it and fuses again after the weights change.
    /// </summary>
    public Tensor FuseProjections()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Autocast.ForMatmul(cat([queryProjection.Weight, keyProjection.Weight, valueProjection.Weight], 0)).MoveToOuterDisposeScope(); // (3d, d)
    }

    Tensor Attend(Tensor input, Tensor? tokenPositions)
    {
        if (input.dim() < 2 || input.size(-1) != DModel)
        {
            throw new ArgumentException(
                $"Attention expects (..., seq, {DModel}), got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }
        using var scope = NewDisposeScope();
        long sequenceLength = input.size(-2);
        var angles = rope is null ? null
            : (tokenPositions is null ? rope.Angles(0, sequenceLength) : rope.Angles(tokenPositions)).ForHeads(); // (..., seq, 1, dHead)
        var (query, key, value) = Project(input, angles, fusedProjection: null); // (..., seq, heads, dHead) each
        query = query.transpose(-3, -2); // (..., heads, seq, dHead)
        key = key.transpose(-3, -2);
        value = value.transpose(-3, -2);
        var heads = Kernel switch // (..., heads, seq, dHead)
        {
            AttentionKernel.Reference => Functional.ScaledDotProductAttention(query, key, value, CausalMask(sequenceLength, input.device)),
            AttentionKernel.Fused => nn.functional.scaled_dot_product_attention(
                Autocast.ForFusedAttention(query), Autocast.ForFusedAttention(key), Autocast.ForFusedAttention(value), is_casual: true),
            _ => throw new InvalidOperationException($"Unknown attention kernel {Kernel}."),
        };
        return MergeAndProject(heads).MoveToOuterDisposeScope(); // (..., seq, dModel)
    }

    /// <summary>
    /// Queries, keys and values (..., seq, heads, dHead), queries and keys rotated by RoPE. Heads stay before the
    /// transpose so that with the fused weight, queries and keys rotate together in one pass.
    /// </summary>
    (Tensor Query, Tensor Key, Tensor Value) Project(Tensor input, RotaryAngles? angles, Tensor? fusedProjection)
    {
        if (fusedProjection is null)
        {
            var query = SplitHeads(queryProjection.call(input));
            var key = SplitHeads(keyProjection.call(input));
            var value = SplitHeads(valueProjection.call(input));
            return angles is null ? (query, key, value) : (rope!.Rotate(query, angles), rope.Rotate(key, angles), value);
        }
        var projected = SplitHeads(Linear.Apply(input, fusedProjection)); // (..., seq, 3·heads, dHead)
        var queryKey = projected.narrow(-2, 0, 2 * NumHeads); // (..., seq, 2·heads, dHead)
        if (angles is not null)
        {
            queryKey = rope!.Rotate(queryKey, angles);
        }
        return (queryKey.narrow(-2, 0, NumHeads), queryKey.narrow(-2, NumHeads, NumHeads), projected.narrow(-2, 2 * NumHeads, NumHeads));
    }

    /// <summary>(..., heads, seq, dHead) → (..., seq, dModel) (eq. 12), then W_O (eq. 14).</summary>
    Tensor MergeAndProject(Tensor heads) => outputProjection.call(heads.transpose(-3, -2).flatten(-2));

    /// <summary>
    /// Each row's (heads, seq, dHead) queries against its cache after the new keys and values join it; rows have
    /// caches of different lengths, so they attend one by one (the projections around them run batched).
    /// </summary>
    Tensor AttendCached(Tensor query, Tensor key, Tensor value, IReadOnlyList<LayerKeyValues> caches)
    {
        var rows = new Tensor[caches.Count];
        for (int row = 0; row < rows.Length; row++)
        {
            var (cachedKeys, cachedValues) = caches[row].Append(key.select(0, row), value.select(0, row)); // (heads, cached, dHead)
            rows[row] = AttendToCache(query.narrow(0, row, 1), cachedKeys.unsqueeze(0), cachedValues.unsqueeze(0)); // (1, heads, seq, dHead)
        }
        return rows.Length == 1 ? rows[0] : cat(rows, 0); // (batch, heads, seq, dHead)
    }

    /// <summary>
    /// The (1, heads, seq, dHead) queries are the last seq of the cached positions: query i attends to keys
    /// j ≤ cached − seq + i. Four-dimensional operands: libtorch 2.10's fused kernel took about half the time on them
    /// as on the same three-dimensional views of a cache.
    /// </summary>
    Tensor AttendToCache(Tensor query, Tensor key, Tensor value)
    {
        long queries = query.size(-2);
        long keys = key.size(-2);
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

    /// <summary>(..., seq, d) → (..., seq, heads, dHead) (a view), with d = heads·dHead or 3·heads·dHead.</summary>
    Tensor SplitHeads(Tensor projected) =>
        projected.unflatten(projected.dim() - 1, [projected.size(-1) / HeadSize, HeadSize]);

    /// <summary>(seq, seq), true on and below the diagonal: query i attends to keys j ≤ i.</summary>
    static Tensor CausalMask(long sequenceLength, Device device) =>
        ones(sequenceLength, sequenceLength, ScalarType.Bool, device).tril();
}
