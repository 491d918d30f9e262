using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpLM.Numerics;

/// <summary>Vectorised elementary functions the BCL offers only in slower, general forms.</summary>
internal static class SimdMath
{
    /// <summary>
    /// eˣ for x ≤ 0 to within 2 ulp (x below −87.3, where eˣ leaves the normal floats, gives e^−87.3 ≈ 1.2e−38).
    /// Cephes' expf: x = n·ln 2 + r with |r| ≤ ln 2 / 2, eʳ by a degree-7 polynomial, 2ⁿ by building the
    /// exponent bits. About five times the speed of Vector256.Exp, which widens to double.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpOfNonPositive(Vector256<float> x)
    {
        x = Vector256.Max(x, Vector256.Create(-87.3365447504019f));
        var n = Vector256.Round(x * Vector256.Create(1.44269504088896341f));   // x / ln 2
        // r = x − n·ln 2, with ln 2 split in two so n·ln2High is exact.
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p * r, r, r) + Vector256<float>.One;     // eʳ ≈ 1 + r + r²·P(r)
        var twoToTheN = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23; // n ∈ [−126, 0]
        return p * twoToTheN.AsSingle();
    }

    /// <summary>Scalar twin of <see cref="ExpOfNonPositive(Vector256{float})"/>, for loop tails, with the same rounding.</summary>
    public static float ExpOfNonPositive(float x) => ExpOfNonPositive(Vector256.Create(x)).GetElement(0);
}
