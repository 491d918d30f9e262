namespace SharpLM.Tests;

/// <summary>
/// Tests that measure the whole process's memory run in this collection, alone: other tests allocating in
/// parallel would otherwise show up as growth.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMemoryCollection
{
    public const string Name = "process memory";
}
