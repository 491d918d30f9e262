using SharpLM.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests;

/// <summary>
/// Tensor arithmetic for test references whose scalars are held through the call (see <see cref="Scalars"/>): TorchSharp's
/// <c>a + b</c>, <c>x * 2</c>, <c>x / 2</c>, <c>x.pow(2)</c> and <c>arange(n)</c> each make a Scalar that a collection
/// started by another test's thread can free while libtorch reads it.
/// </summary>
public static class HeldScalarMath
{
    /// <summary><paramref name="use"/> called with <paramref name="value"/> as a Scalar that lives until it returns.</summary>
    public static T WithScalar<T>(double value, Func<Scalar, T> use)
    {
        ArgumentNullException.ThrowIfNull(use);
        using var scalar = value.ToScalar();
        return use(scalar);
    }

    /// <summary>a + b.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, Scalars.One);

    /// <summary>a + b.</summary>
    public static Tensor Plus(this Tensor a, double b) => WithScalar(b, s => a.add(s, Scalars.One));

    /// <summary>a · b.</summary>
    public static Tensor Times(this Tensor a, double b) => WithScalar(b, s => a.mul(s));

    /// <summary>a / b.</summary>
    public static Tensor Over(this Tensor a, double b) => WithScalar(b, s => a.div(s));

    /// <summary>a mod b (the remainder takes the divisor's sign, as Python's %).</summary>
    public static Tensor Modulo(this Tensor a, long b) => WithScalar(b, s => a.remainder(s));

    /// <summary>a² elementwise.</summary>
    public static Tensor Squared(this Tensor a) => a.mul(a);

    /// <summary>start, start + 1, …, end − 1.</summary>
    public static Tensor Range(long start, long end, ScalarType dtype = ScalarType.Int64) => Scalars.Range(start, end, dtype);

    /// <summary>0, 1, …, end − 1.</summary>
    public static Tensor Range(long end, ScalarType dtype = ScalarType.Int64) => Range(0, end, dtype);
}
