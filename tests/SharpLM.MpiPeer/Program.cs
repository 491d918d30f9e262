using System.Runtime.InteropServices;
using SharpLM.Distributed;
using SharpLM.MpiPeer;

// Started by an MPI launcher; each rank writes raw float32 to <prefix>.rank<r>:
//   SharpLM.MpiPeer train <prefix> <steps> <accumulation steps>   the weights after DataParallelProbe.Train
//   SharpLM.MpiPeer reduce <prefix> <floats,…> <max chunk>          gradients of those sizes after the reduction
if (args is not (["train", _, _, _] or ["reduce", _, _, _]))
{
    Console.Error.WriteLine("usage: SharpLM.MpiPeer train <prefix> <steps> <accumulation steps> | reduce <prefix> <floats,…> <max chunk>");
    return 2;
}
var world = LaunchedWorld.FromEnvironment() ?? throw new InvalidOperationException("start this program with mpirun or mpiexec, -np 2 or more.");
using var group = MpiProcessGroup.Start(world);
float[] result = args[0] == "train"
    ? DataParallelProbe.Train(group, int.Parse(args[2]), int.Parse(args[3]))
    : DataParallelProbe.Reduce(group, [.. args[2].Split(',').Select(int.Parse)], int.Parse(args[3]));
File.WriteAllBytes($"{args[1]}.rank{group.Rank}", MemoryMarshal.AsBytes(result.AsSpan()).ToArray());
Console.WriteLine($"rank {group.Rank} of {group.Size} on {group.Library}: {result.Length} floats");
return 0;
