using System.Reflection;
using SharpLM.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Numerics;

/// <summary>
/// No SharpLM code hands libtorch a Scalar that the garbage collector may free during the call (see
/// <see cref="Scalars"/>): under collections started by another thread such calls failed 17 to 91 times in
/// 470,000 to 950,000 tries here, one of them in CI.
/// </summary>
public sealed class TemporaryScalarTests
{
    static readonly Lazy<TemporaryScalarScan> Scan = new(() => new TemporaryScalarScan());

    [Fact]
    public void Scan_FindsTheTemporariesTorchSharpMakesAndNotTheHeldForms()
    {
        var scan = Scan.Value;
        Assert.True(scan.MakesTemporary(Method(typeof(Tensor), "op_Addition", typeof(Tensor), typeof(Tensor))), "a + b: alpha = 1");
        Assert.True(scan.MakesTemporary(Method(typeof(Tensor), "add_", typeof(Tensor))), "add_(Tensor): alpha = 1");
        Assert.True(scan.MakesTemporary(Method(typeof(Tensor), "op_Multiply", typeof(Tensor), typeof(double))), "x * 0.5");
        Assert.True(scan.MakesTemporary(Method(typeof(Tensor), "square")), "square(): pow(2)");
        Assert.True(scan.MakesTemporary(Method(typeof(Scalar), "op_Implicit", typeof(double))), "an implicit conversion");
        Assert.False(scan.MakesTemporary(Method(typeof(Tensor), "add_", typeof(Tensor), typeof(Scalar))), "add_(Tensor, Scalar)");
        Assert.False(scan.MakesTemporary(Method(typeof(Tensor), "mul", typeof(Scalar))), "mul(Scalar)");
        Assert.False(scan.MakesTemporary(Method(typeof(Tensor), "op_Subtraction", typeof(Tensor), typeof(Tensor))), "a - b");
    }

    [Fact]
    public void Scan_FlagsAnImplicitConversionAndAnUndisposedToScalar_ButNotAUsingOne()
    {
        var offences = Scan.Value.Offences(typeof(Examples).Assembly).Where(o => o.Contains(nameof(Examples), StringComparison.Ordinal)).ToList();
        Assert.Contains(offences, o => o.Contains(nameof(Examples.Implicit), StringComparison.Ordinal));
        Assert.Contains(offences, o => o.Contains(nameof(Examples.Unheld), StringComparison.Ordinal));
        Assert.Contains(offences, o => o.Contains(nameof(Examples.TensorSum), StringComparison.Ordinal));
        Assert.DoesNotContain(offences, o => o.Contains(nameof(Examples.Held), StringComparison.Ordinal));
        Assert.DoesNotContain(offences, o => o.Contains(nameof(Examples.HeldSum), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("SharpLM")]
    [InlineData("SharpLM.Cli")]
    [InlineData("SharpLM.Tests")]
    [InlineData("SharpLM.MpiPeer")]
    [InlineData("SharpLM.Bench")]
    public void Assembly_PassesOnlyHeldScalars(string name)
    {
        var offences = Scan.Value.Offences(Assembly.Load(name)).Where(o => !o.Contains(nameof(Examples), StringComparison.Ordinal)).ToList();
        Assert.True(offences.Count == 0, $"{offences.Count} calls make a temporary Scalar (hold it: see SharpLM.Numerics.Scalars):\n" + string.Join('\n', offences));
    }

    static MethodInfo Method(Type type, string name, params Type[] parameters) =>
        type.GetMethod(name, parameters) ?? throw new MissingMethodException(type.Name, name);

    /// <summary>The patterns the scan must tell apart (compiled, never run).</summary>
    static class Examples
    {
        public static Tensor Implicit(Tensor x) => x.mul(0.5);

        public static Tensor Unheld(Tensor x) => x.mul(0.5.ToScalar());

        public static Tensor TensorSum(Tensor x, Tensor y) => x + y;

        public static Tensor Held(Tensor x)
        {
            using var half = 0.5.ToScalar();
            return x.mul(half);
        }

        public static Tensor HeldSum(Tensor x, Tensor y) => x.add(y, Scalars.One);
    }
}
