using SharpLM.Numerics;
using SharpLM.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Rotary position embedding (handout §3.5.3): rotates each pair (x₂ₖ, x₂ₖ₊₁) of the last dimension by the angle
/// i·Θ^(−2k/d) for token position i (eqs. 8–9). Has no parameters; one instance can serve every layer.
/// </summary>
/// <remarks>
/// The tables hold each angle twice, interleaved as the pairs are: cos (c₀, c₀, c₁, c₁, …) and sin with the sign of
/// eq. 8, (−s₀, s₀, −s₁, s₁, …), so a rotation is x·cos + swap(x)·sin, where swap exchanges the two of each pair:
/// five native calls, a few microseconds per layer in a one-token decode step (against about twenty before).
/// </remarks>
public sealed class Rope : nn.Module<Tensor, Tensor, Tensor>
{
    // Non-persistent buffers: fixed, so not in the state dict. Not readonly: moved by Module.to().
    Tensor cos; // (maxSeqLen, dK)
    Tensor sin; // (maxSeqLen, dK)

    public Rope(double theta, long dK, long maxSeqLen, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Rope))
    {
        if (!(theta > 0))
        {
            throw new ArgumentException($"RoPE theta must be positive, got {theta}.", nameof(theta));
        }
        if (dK <= 0 || dK % 2 != 0)
        {
            throw new ArgumentException($"RoPE rotates pairs, so d_k must be positive and even, got {dK}.", nameof(dK));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSeqLen);
        Theta = theta;
        DK = dK;
        MaxSeqLen = maxSeqLen;

        using (NewDisposeScope())
        {
            // Angles in float64 so that large positions keep their precision before the cast.
            using var exponent = (-Math.Log(theta) / dK).ToScalar(); // held: see Scalars
            var inverseFrequency = Scalars.Range(0, dK, ScalarType.Float64, device, step: 2).mul_(exponent).exp_(); // (dK/2): Θ^(−2k/d)
            var positions = Scalars.Range(0, maxSeqLen, ScalarType.Float64, device); // (maxSeqLen)
            var angles = outer(positions, inverseFrequency); // (maxSeqLen, dK/2)
            ScalarType tableType = dtype ?? get_default_dtype();
            var cosines = angles.cos();
            var sines = angles.sin();
            cos = stack([cosines, cosines], -1).flatten(-2).to(tableType).DetachFromDisposeScope(); // (maxSeqLen, dK)
            sin = stack([sines.neg(), sines], -1).flatten(-2).to(tableType).DetachFromDisposeScope(); // (maxSeqLen, dK)
        }
        register_buffer(nameof(cos), cos, persistent: false);
        register_buffer(nameof(sin), sin, persistent: false);
        RegisterComponents();
    }

    public double Theta { get; }

    public long DK { get; }

    public long MaxSeqLen { get; }

    /// <summary>The cosine table (maxSeqLen, dK), exposed for tests of device and dtype moves.</summary>
    internal Tensor CosTable => cos;

    /// <summary>Rotates (..., seq, dK) by the positions (..., seq), which broadcast against the leading dimensions.</summary>
    /// <exception cref="ArgumentException">Shapes do not fit, or a position lies outside [0, maxSeqLen).</exception>
    public override Tensor forward(Tensor input, Tensor tokenPositions)
    {
        ValidateInput(input);
        if (tokenPositions.shape.Length == 0 || tokenPositions.shape[^1] != input.shape[^2])
        {
            throw new ArgumentException(
                $"Token positions of shape [{string.Join(", ", tokenPositions.shape)}] do not match the {input.shape[^2]} positions of the input.",
                nameof(tokenPositions));
        }
        using var scope = NewDisposeScope();
        return Rotate(input, Angles(tokenPositions)).MoveToOuterDisposeScope();
    }

    /// <summary>Rotates (..., seq, dK) as if its positions were 0, 1, …, seq−1.</summary>
    public Tensor forward(Tensor input)
    {
        ValidateInput(input);
        using var scope = NewDisposeScope();
        return Rotate(input, Angles(0, input.shape[^2])).MoveToOuterDisposeScope();
    }

    /// <summary>The rotations of the (..., seq) positions: rows of the tables, (..., seq, dK) each.</summary>
    /// <exception cref="ArgumentException">The positions are not integers or one lies outside [0, maxSeqLen).</exception>
    public RotaryAngles Angles(Tensor tokenPositions)
    {
        ArgumentNullException.ThrowIfNull(tokenPositions);
        if (tokenPositions.dtype is not (ScalarType.Int64 or ScalarType.Int32))
        {
            throw new ArgumentException($"Token positions must be Int64 or Int32, got {tokenPositions.dtype}.", nameof(tokenPositions));
        }
        if (tokenPositions.numel() > 0)
        {
            // One host sync per call; an out-of-range index would otherwise be a native error.
            using var bounds = NewDisposeScope();
            long low = tokenPositions.min().to(ScalarType.Int64).item<long>();
            long high = tokenPositions.max().to(ScalarType.Int64).item<long>();
            if (low < 0 || high >= MaxSeqLen)
            {
                throw new ArgumentException(
                    $"Token position {(low < 0 ? low : high)} is outside [0, {MaxSeqLen}) of this RoPE.", nameof(tokenPositions));
            }
        }
        return new RotaryAngles(cos[tokenPositions], sin[tokenPositions]);
    }

    /// <summary>The rotations of positions start, …, start+count−1: views of the tables, (count, dK) each.</summary>
    /// <exception cref="ArgumentException">The positions leave [0, maxSeqLen).</exception>
    public RotaryAngles Angles(long start, long count)
    {
        if (start < 0 || count < 0 || start + count > MaxSeqLen)
        {
            throw new ArgumentException(
                count > MaxSeqLen
                    ? $"Sequence length {count} exceeds this RoPE's maximum of {MaxSeqLen}."
                    : $"Positions {start} … {start + count - 1} leave [0, {MaxSeqLen}) of this RoPE.", nameof(count));
        }
        return new RotaryAngles(cos.narrow(0, start, count), sin.narrow(0, start, count));
    }

    /// <summary>Rotates (..., dK) by angles that broadcast against it (eq. 8); any leading layout, e.g. (..., seq, heads, dK).</summary>
    public Tensor Rotate(Tensor input, RotaryAngles angles)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(angles);
        using var scope = NewDisposeScope();
        // Rotations of half-precision queries and keys run in float32 (mixed precision), then narrow back.
        var x = Autocast.Widen(input);
        var c = angles.Cosines.dtype == x.dtype ? angles.Cosines : angles.Cosines.to(x.dtype);
        var s = angles.Sines.dtype == x.dtype ? angles.Sines : angles.Sines.to(x.dtype);
        // TorchSharp's unflatten rejects a negative dim.
        var swapped = x.unflatten(x.dim() - 1, [DK / 2, 2]).flip(-1).flatten(-2); // (..., dK): (x₂ₖ₊₁, x₂ₖ) pairs
        var rotated = x.mul(c).add_(swapped.mul(s), Scalars.One); // (..., dK): eq. 8
        return (rotated.dtype == input.dtype ? rotated : rotated.to(input.dtype)).MoveToOuterDisposeScope();
    }

    void ValidateInput(Tensor input)
    {
        if (input.shape.Length < 2 || input.shape[^1] != DK)
        {
            throw new ArgumentException(
                $"RoPE expects (..., seq, {DK}), got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }
    }

    // TorchSharp 0.107.0's named_buffers() skips non-persistent buffers, so Module.to() and Module.Dispose() never
    // see the tables; these overrides do for them what the base class does for persistent buffers.
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        if (ReplaceBuffer(dtype, device, cos, out var movedCos) && movedCos is not null)
        {
            cos = movedCos;
            ConditionallyRegisterBuffer(nameof(cos), cos, persistent: false);
        }
        if (ReplaceBuffer(dtype, device, sin, out var movedSin) && movedSin is not null)
        {
            sin = movedSin;
            ConditionallyRegisterBuffer(nameof(sin), sin, persistent: false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            cos.Dispose();
            sin.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// The cos and sin table rows of some token positions (see <see cref="Rope"/>), gathered once per forward pass so
/// that every layer rotates with them.
/// </summary>
public sealed record RotaryAngles(Tensor Cosines, Tensor Sines)
{
    /// <summary>(..., seq, 1, dK): the same rotation for every head of a (..., seq, heads, dK) input.</summary>
    public RotaryAngles ForHeads() => new(Cosines.unsqueeze(-2), Sines.unsqueeze(-2));
}
