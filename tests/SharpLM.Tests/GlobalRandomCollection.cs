namespace SharpLM.Tests;

/// <summary>
/// Tests that seed libtorch's global generator (torch.manual_seed, as the handout's reference tests do) run
/// in this collection, alone, so no test running in parallel draws from the same generator in between.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomCollection
{
    public const string Name = "global random generator";
}
