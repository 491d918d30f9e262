namespace SharpLM.Tests.Distributed;

/// <summary>MPI jobs take both cores of CI's machine: their tests run alone, not beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MpiCollection
{
    public const string Name = "mpi";
}
