using System.Runtime.CompilerServices;

namespace SharpLM.Tests;

internal static class TestAssemblySetup
{
    /// <summary>
    /// xunit runs test classes in parallel; libtorch's own intra-op threads on top of that oversubscribe the
    /// cores many times over and make every step wait. One libtorch thread per test keeps the suite fast.
    /// </summary>
    [ModuleInitializer]
    internal static void UseOneLibTorchThread() => TorchSharp.torch.set_num_threads(1);
}
