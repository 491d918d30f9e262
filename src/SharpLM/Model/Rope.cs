using SharpLM.Numerics;
using SharpLM.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Rotary position embedding (handout §3.5.3): rotates each pair (x₂ₖ, x₂ₖ₊₁) of the last dimension by the angle
/// i·Θ^(−2k/d) for token position i (eqs. 8–9). Has no parameters; one instance can serve every layer.
/// </summary>
public sealed class Rope : nn.Module<Tensor, Tensor, Tensor>
{
    // Non-persistent buffers: fixed, so not in the state dict. Not readonly: moved by Module.to().
    Tensor cos; // (maxSeqLen, dK/2)
    Tensor sin; // (maxSeqLen, dK/2)

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
            // Held scalars: see Scalars.
            using var zero = 0.ToScalar();
            using var two = 2.ToScalar();
            using var pairEnd = dK.ToScalar();
            using var exponent = (-Math.Log(theta) / dK).ToScalar();
            using var positionEnd = maxSeqLen.ToScalar();
            var inverseFrequency = arange(zero, pairEnd, two, ScalarType.Float64, device).mul_(exponent).exp_(); // (dK/2): Θ^(−2k/d)
            var positions = arange(zero, positionEnd, Scalars.One, ScalarType.Float64, device); // (maxSeqLen)
            var angles = outer(positions, inverseFrequency); // (maxSeqLen, dK/2)
            ScalarType tableType = dtype ?? get_default_dtype();
            cos = angles.cos().to(tableType).DetachFromDisposeScope();
            sin = angles.sin().to(tableType).DetachFromDisposeScope();
        }
        register_buffer(nameof(cos), cos, persistent: false);
        register_buffer(nameof(sin), sin, persistent: false);
        RegisterComponents();
    }

    public double Theta { get; }

    public long DK { get; }

    public long MaxSeqLen { get; }

    /// <summary>The cosine table (maxSeqLen, dK/2), exposed for tests of device and dtype moves.</summary>
    internal Tensor CosTable => cos;

    /// <summary>Rotates (..., seq, dK) by the positions (..., seq), which broadcast against the leading dimensions.</summary>
    /// <exception cref="ArgumentException">Shapes do not fit, or a position lies outside [0, maxSeqLen).</exception>
    public override Tensor forward(Tensor input, Tensor tokenPositions)
    {
        ValidateInput(input);
        if (tokenPositions.dtype is not (ScalarType.Int64 or ScalarType.Int32))
        {
            throw new ArgumentException($"Token positions must be Int64 or Int32, got {tokenPositions.dtype}.", nameof(tokenPositions));
        }
        if (tokenPositions.shape.Length == 0 || tokenPositions.shape[^1] != input.shape[^2])
        {
            throw new ArgumentException(
                $"Token positions of shape [{string.Join(", ", tokenPositions.shape)}] do not match the {input.shape[^2]} positions of the input.",
                nameof(tokenPositions));
        }
        using var scope = NewDisposeScope();
        // One host sync per call; an out-of-range index would otherwise be a native error.
        long low = tokenPositions.min().to(ScalarType.Int64).item<long>();
        long high = tokenPositions.max().to(ScalarType.Int64).item<long>();
        if (low < 0 || high >= MaxSeqLen)
        {
            throw new ArgumentException(
                $"Token position {(low < 0 ? low : high)} is outside [0, {MaxSeqLen}) of this RoPE.", nameof(tokenPositions));
        }
        return Rotate(input, cos[tokenPositions], sin[tokenPositions]).MoveToOuterDisposeScope(); // tables (..., seq, dK/2)
    }

    /// <summary>Rotates (..., seq, dK) as if its positions were 0, 1, …, seq−1.</summary>
    public Tensor forward(Tensor input)
    {
        ValidateInput(input);
        long sequenceLength = input.shape[^2];
        if (sequenceLength > MaxSeqLen)
        {
            throw new ArgumentException(
                $"Sequence length {sequenceLength} exceeds this RoPE's maximum of {MaxSeqLen}.", nameof(input));
        }
        using var scope = NewDisposeScope();
        return Rotate(input, cos.narrow(0, 0, sequenceLength), sin.narrow(0, 0, sequenceLength)).MoveToOuterDisposeScope(); // tables (seq, dK/2)
    }

    Tensor Rotate(Tensor input, Tensor cosines, Tensor sines)
    {
        // Rotations of half-precision queries and keys run in float32 (mixed precision), then narrow back.
        var x = Autocast.Widen(input);
        var c = cosines.to(x.dtype);
        var s = sines.to(x.dtype);
        // TorchSharp's unflatten rejects a negative dim.
        var pairs = x.unflatten(x.dim() - 1, [DK / 2, 2]); // (..., seq, dK/2, 2)
        var even = pairs.select(-1, 0); // (..., seq, dK/2)
        var odd = pairs.select(-1, 1); // (..., seq, dK/2)
        var rotated = stack([even * c - odd * s, (even * s).add_(odd * c, Scalars.One)], -1); // (..., seq, dK/2, 2): eq. 8
        return rotated.flatten(-2).to(input.dtype); // (..., seq, dK)
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
