using SharpLM.Training;

namespace SharpLM.Distributed;

/// <summary>
/// The processes training one model together, as the training loop sees them: who this one is, and the few
/// collective operations it needs. Every process must make the same calls in the same order.
/// </summary>
public interface IProcessGroup
{
    /// <summary>0 … <see cref="Size"/> − 1; rank 0 alone writes files and the console.</summary>
    int Rank { get; }

    int Size { get; }

    /// <summary>Processes of the group on this host.</summary>
    int LocalSize { get; }

    /// <summary>Averages the gradients across the group; null for a group of one.</summary>
    IGradientReduction? GradientReduction { get; }

    /// <summary>Replaces each value by its sum over the group.</summary>
    void SumInPlace(Span<double> values);

    /// <summary>Every process's <paramref name="mine"/>, indexed by rank; all must be the same length.</summary>
    byte[][] AllGather(ReadOnlySpan<byte> mine);

    /// <summary>Returns when every process has called it.</summary>
    void Barrier();
}
