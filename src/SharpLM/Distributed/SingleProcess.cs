using SharpLM.Training;

namespace SharpLM.Distributed;

/// <summary>A group of one: the collectives are the identity, no MPI library is involved.</summary>
public sealed class SingleProcess : IProcessGroup
{
    public static SingleProcess Instance { get; } = new();

    SingleProcess()
    {
    }

    public int Rank => 0;
    public int Size => 1;
    public int LocalSize => 1;
    public IGradientReduction? GradientReduction => null;

    public void SumInPlace(Span<double> values)
    {
    }

    public byte[][] AllGather(ReadOnlySpan<byte> mine) => [mine.ToArray()];

    public void Barrier()
    {
    }
}
