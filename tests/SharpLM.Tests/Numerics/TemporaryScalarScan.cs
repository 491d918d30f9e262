using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;

namespace SharpLM.Tests.Numerics;

/// <summary>
/// Finds, in compiled IL, the calls that give libtorch a <see cref="Scalar"/> nobody holds (see SharpLM.Numerics.Scalars):
/// implicit conversions to Scalar, and TorchSharp methods that make one inside themselves, found by following
/// TorchSharp's own IL from its Scalar constructors up through everything that calls them.
/// </summary>
public sealed class TemporaryScalarScan
{
    const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!).ToDictionary(code => code.Value);

    readonly HashSet<MethodBase> creators;
    readonly HashSet<MethodBase> makesTemporary;

    public TemporaryScalarScan()
    {
        Assembly torchSharp = typeof(Scalar).Assembly;
        var methods = MethodsOf(torchSharp).ToList();
        creators = [.. methods.Where(IsScalarCreator)];
        var callers = new Dictionary<MethodBase, List<MethodBase>>();
        foreach (var method in methods)
        {
            foreach (var callee in Instructions(method).Select(i => i.Callee).OfType<MethodBase>().Where(c => c.Module == torchSharp.ManifestModule))
            {
                if (!callers.TryGetValue(callee, out var list))
                {
                    callers[callee] = list = [];
                }
                list.Add(method);
            }
        }
        // Anything that reaches a creator, except the creators themselves (they return the Scalar to their caller).
        makesTemporary = [];
        var pending = new Queue<MethodBase>(creators);
        while (pending.TryDequeue(out var method))
        {
            foreach (var caller in callers.GetValueOrDefault(method, []).Where(c => !creators.Contains(c) && makesTemporary.Add(c)))
            {
                pending.Enqueue(caller);
            }
        }
    }

    /// <summary>True when calling <paramref name="method"/> makes a Scalar that it does not keep alive.</summary>
    public bool MakesTemporary(MethodBase method) => makesTemporary.Contains(method) || IsImplicitConversion(method);

    /// <summary>Every call in <paramref name="assembly"/> that hands libtorch an unheld Scalar, as "caller → callee".</summary>
    public IReadOnlyList<string> Offences(Assembly assembly)
    {
        var offences = new List<string>();
        foreach (var method in MethodsOf(assembly))
        {
            var instructions = Instructions(method).ToList();
            for (int i = 0; i < instructions.Count; i++)
            {
                if (instructions[i].Callee is not { } callee)
                {
                    continue;
                }
                if (MakesTemporary(callee) || (creators.Contains(callee) && !IsHeld(instructions, i)))
                {
                    offences.Add($"{method.DeclaringType?.FullName}.{method.Name} → {Describe(callee)}");
                }
            }
        }
        return [.. offences.Distinct().Order()];
    }

    public static string Describe(MethodBase method) =>
        $"{method.DeclaringType?.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})";

    static bool IsScalarCreator(MethodBase method) =>
        method is MethodInfo { ReturnType: var type } && type == typeof(Scalar) && method.IsStatic &&
        (method.DeclaringType == typeof(Scalar) || method.DeclaringType?.Name == "ScalarExtensionMethods");

    static bool IsImplicitConversion(MethodBase method) => method.DeclaringType == typeof(Scalar) && method.Name == "op_Implicit";

    /// <summary>
    /// An explicit <c>value.ToScalar()</c> is held when it goes straight into a field (a lifetime of the object) or into a
    /// local that the method disposes (<c>using var</c>), which keeps it reachable until after the calls that use it.
    /// </summary>
    static bool IsHeld(List<Instruction> instructions, int call)
    {
        if (call + 1 >= instructions.Count)
        {
            return false;
        }
        var next = instructions[call + 1];
        if (next.Code == OpCodes.Stsfld || next.Code == OpCodes.Stfld)
        {
            return true;
        }
        if (StoredLocal(next) is not { } local)
        {
            return false;
        }
        return instructions.Zip(instructions.Skip(1)).Any(pair =>
            LoadedLocal(pair.First) == local && pair.Second.Callee is { Name: "Dispose" });
    }

    static int? StoredLocal(Instruction instruction) => instruction.Code.Value switch
    {
        0x0A or 0x0B or 0x0C or 0x0D => instruction.Code.Value - 0x0A, // stloc.0 … stloc.3
        0x13 or unchecked((short)0xFE0E) => instruction.Operand,        // stloc.s, stloc
        _ => null,
    };

    static int? LoadedLocal(Instruction instruction) => instruction.Code.Value switch
    {
        0x06 or 0x07 or 0x08 or 0x09 => instruction.Code.Value - 0x06, // ldloc.0 … ldloc.3
        0x11 or unchecked((short)0xFE0C) => instruction.Operand,        // ldloc.s, ldloc
        _ => null,
    };

    static IEnumerable<MethodBase> MethodsOf(Assembly assembly) => assembly.GetTypes()
        .SelectMany(type => type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)));

    readonly record struct Instruction(OpCode Code, int Operand, MethodBase? Callee);

    /// <summary>Decodes the method body; calls, constructor calls and delegate creations carry their target.</summary>
    static IEnumerable<Instruction> Instructions(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }
        int position = 0;
        while (position < il.Length)
        {
            short value = il[position] == 0xFE ? (short)(0xFE00 | il[position + 1]) : il[position];
            position += il[position] == 0xFE ? 2 : 1;
            var code = OpCodesByValue[value];
            int operand = 0;
            MethodBase? callee = null;
            switch (code.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    operand = il[position];
                    position += 1;
                    break;
                case OperandType.InlineVar:
                    operand = BitConverter.ToUInt16(il, position);
                    position += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    position += 8;
                    break;
                case OperandType.InlineSwitch:
                    position += 4 + (4 * BitConverter.ToInt32(il, position));
                    break;
                case OperandType.InlineMethod:
                    callee = Resolve(method, BitConverter.ToInt32(il, position));
                    position += 4;
                    break;
                default: // every other operand is 4 bytes: tokens, 32-bit constants and branch targets
                    operand = BitConverter.ToInt32(il, position);
                    position += 4;
                    break;
            }
            yield return new Instruction(code, operand, callee);
        }
    }

    static MethodBase? Resolve(MethodBase method, int token)
    {
        try
        {
            return method.Module.ResolveMethod(token,
                method.DeclaringType is { IsGenericType: true } type ? type.GetGenericArguments() : null,
                method.IsGenericMethod ? method.GetGenericArguments() : null);
        }
        catch (ArgumentException)
        {
            return null; // a member of a type this process cannot load; not TorchSharp's
        }
    }
}
