using System.Diagnostics;
using System.Globalization;
using SharpLM.Distributed;
using SharpLM.Memory;
using SharpLM.Model;
using SharpLM.Numerics;
using SharpLM.Precision;
using SharpLM.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>
/// Data-parallel training on MPI (docs/distributed.md), on every MPI library installed: the in-place all-reduce of
/// the TinyStories model's gradients as training does it (one flat buffer, a few large calls) and one call per tensor; and weak scaling of the
/// training step: tokens/s of 1 process × 1 thread beside 2 ranks × 1 thread, each rank bound to a core and stepping its own
/// batch, with the time spent waiting for the slower rank, the reduction's share of the step and its page faults.
/// </summary>
public static class DistributedBenchmarks
{
    const string Suite = "distributed";
    const int BatchPerRank = 8, StepWarmup = 3, StepIterations = 6, Rounds = 2;
    const int ReduceWarmup = 2, ReduceIterations = 7;

    /// <summary>Set in the ranks: "allreduce" or "steps".</summary>
    const string PartVariable = "SHARPLM_BENCH_MPI_PART";

    /// <summary>The largest call of the per-tensor reduction it is compared with.</summary>
    const int PerTensorChunk = 4 << 20;

    public static void Run()
    {
        switch (Environment.GetEnvironmentVariable(PartVariable))
        {
            case "allreduce":
                AllReduceInRank();
                return;
            case "steps":
                StepsInRank();
                return;
        }
        var flavors = MpiLaunchers.Available();
        if (flavors.Count == 0)
        {
            Console.WriteLine($"not measured: no MPI launcher (apt-get install {MpiLaunchers.Package(MpiFlavor.OpenMpi)}, or {MpiLaunchers.Package(MpiFlavor.Mpich)})");
            return;
        }
        AllReduce(flavors);
        Console.WriteLine();
        Scaling(flavors);
    }

    static void AllReduce(IReadOnlyList<MpiFlavor> flavors)
    {
        var rows = new List<IReadOnlyList<string>>();
        string? size = null;
        foreach (var flavor in flavors)
        {
            string output = Launch(flavor, 2, new() { [PartVariable] = "allreduce" });
            double bytes = 4 * ChildProcess.Values(output, "floats ")[0];
            size ??= string.Create(CultureInfo.InvariantCulture,
                $"{bytes / 4:N0} floats ({bytes / 1e6:F1} MB) in {ChildProcess.Values(output, "tensors ")[0]} tensors");
            var flat = Measurement.Of(ChildProcess.Values(output, "flat-ms "));
            var perTensor = Measurement.Of(ChildProcess.Values(output, "per-tensor-ms "));
            rows.Add([MpiLaunchers.Name(flavor), Ms(flat), GigabytesPerSecond(bytes, flat), Ms(perTensor), GigabytesPerSecond(bytes, perTensor)]);
        }
        Console.WriteLine($"In-place all-reduce (sum, then ÷ ranks) of the TinyStories gradients between 2 ranks on this host, {size}; " +
            $"median (best) of {ReduceIterations} after {ReduceWarmup}, GB/s = gradient bytes ÷ time:");
        Console.WriteLine();
        MarkdownTable.Print(Console.Out,
            ["library", $"as training does it: one flat buffer, calls of ≤ {MpiGradientReduction.MaxChunk:N0} floats, ms", "GB/s", $"one call per tensor (≤ {PerTensorChunk:N0} floats), ms", "GB/s"], rows);
    }

    static void Scaling(IReadOnlyList<MpiFlavor> flavors)
    {
        var configurations = new List<(string Name, int Ranks, bool Mpi, Func<string> Run)>
        {
            ("1 process × 1 thread", 1, false, () => ChildProcess.Run(Suite, StepsPart(), [])),
            (IndependentPair, 2, false, RunIndependentPair),
        };
        configurations.AddRange(flavors.Select(f => ($"2 ranks × 1 thread, {MpiLaunchers.Name(f)}", 2, true, (Func<string>)(() => Launch(f, 2, StepsPart())))));
        var steps = configurations.ToDictionary(c => c.Name, _ => new List<double>());
        var secondCoreSteps = new List<double>();
        var reduces = configurations.ToDictionary(c => c.Name, _ => new List<double>());
        var waits = configurations.ToDictionary(c => c.Name, _ => new List<double>());
        var faults = configurations.ToDictionary(c => c.Name, _ => new List<double>());
        string? precision = null;
        // The configurations alternate, so that background load falls on all of them alike.
        for (int round = 0; round < Rounds; round++)
        {
            foreach (var (name, _, _, run) in configurations)
            {
                string output = run();
                steps[name].AddRange(ChildProcess.Values(output, "step-ms "));
                secondCoreSteps.AddRange(ChildProcess.Values(output, SecondCoreStep));
                reduces[name].AddRange(ChildProcess.Values(output, "reduce-ms "));
                waits[name].AddRange(ChildProcess.Values(output, "wait-ms "));
                faults[name].AddRange(ChildProcess.Values(output, "faults "));
                precision ??= output.Split('\n').FirstOrDefault(l => l.StartsWith("precision ", StringComparison.Ordinal))?["precision ".Length..];
            }
        }
        var config = TransformerConfig.TinyStories;
        double single = 0;
        var rows = new List<IReadOnlyList<string>>();
        var targets = new List<IReadOnlyList<string>>();
        foreach (var (name, ranks, mpi, _) in configurations)
        {
            var step = Measurement.Of(steps[name]);
            double tokensPerSecond = ranks * BatchPerRank * config.ContextLength / (step.MedianMilliseconds * 1e-3);
            string stepColumn = Ms(step);
            if (name == IndependentPair)
            {
                // Each process at its own pace: the pair's rate is the sum of the two, and the two cores' medians show
                // how far apart this VM's two vCPUs run, which synchronised ranks pay as waiting.
                var second = Measurement.Of(secondCoreSteps);
                tokensPerSecond = BatchPerRank * config.ContextLength * (1 / (step.MedianMilliseconds * 1e-3) + 1 / (second.MedianMilliseconds * 1e-3));
                stepColumn = $"core 0: {Ms(step)}, core 1: {Ms(second)}";
            }
            if (ranks == 1)
            {
                single = tokensPerSecond;
            }
            bool reduced = reduces[name].Count > 0;
            string wait = reduced ? F(Measurement.Of(waits[name]).MedianMilliseconds, "F0") : "";
            string reduce = reduced ? F(Measurement.Of(reduces[name]).MedianMilliseconds, "F0") : "";
            string share = reduced ? F(100 * Measurement.Of(reduces[name]).MedianMilliseconds / step.MedianMilliseconds, "F1") + "%" : "";
            string pageFaults = reduced ? $"{F(Measurement.Median(faults[name]), "F0")} (at most {F(faults[name].Max(), "F0")})" : "";
            rows.Add([name, stepColumn, F(tokensPerSecond, "N0"), F(tokensPerSecond / single, "F2") + "×", wait, reduce, share, pageFaults]);
            if (mpi)
            {
                double speedUp = tokensPerSecond / single;
                targets.Add([$"{name} ÷ 1 process × 1 thread (tokens/s)", F(speedUp, "F2") + "×", "≥ 1.8×", speedUp >= 1.8 ? "met" : "MISSED"]);
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training step of the TinyStories model ({precision}), batch {BatchPerRank} × {config.ContextLength} per rank, each rank bound to one core; " +
            $"median (best) of {Rounds} alternating rounds × {StepIterations} steps after {StepWarmup}, timed on rank 0 from a barrier:"));
        Console.WriteLine();
        MarkdownTable.Print(Console.Out,
            ["job", "step ms", "tokens/s", "speed-up", "the first rank waits for the last, ms", "reduce ms", "reduce share of the step", "page faults in the reduction"], rows);
        Console.WriteLine();
        MarkdownTable.Print(Console.Out, ["target", "measured", "goal", "result"], targets);
    }

    const string IndependentPair = "2 processes × 1 thread without MPI, one per core (no reduction: the machine's ceiling)";

    static Dictionary<string, string> StepsPart() => new() { [PartVariable] = "steps" };

    /// <summary>
    /// Two unrelated training processes at once, each pinned to its own core: the first one's output, then the second
    /// one's step times as <see cref="SecondCoreStep"/> lines.
    /// </summary>
    static string RunIndependentPair()
    {
        var pair = Enumerable.Range(0, 2)
            .Select(core => Task.Run(() => ChildProcess.Run(Suite, StepsPart(), ["taskset", "-c", core.ToString(CultureInfo.InvariantCulture)])))
            .ToArray();
        Task.WaitAll(pair);
        return pair[0].Result + string.Concat(ChildProcess.Values(pair[1].Result, "step-ms ")
            .Select(milliseconds => string.Create(CultureInfo.InvariantCulture, $"{SecondCoreStep}{milliseconds}\n")));
    }

    /// <summary>The prefix of the second core's step times in <see cref="RunIndependentPair"/>'s output.</summary>
    const string SecondCoreStep = "core-1-step-ms ";

    static string Launch(MpiFlavor flavor, int ranks, Dictionary<string, string> variables)
    {
        foreach (var (name, value) in MpiLaunchers.Variables())
        {
            variables[name] = value;
        }
        return ChildProcess.Run(Suite, variables, MpiLaunchers.Command(flavor, ranks));
    }

    /// <summary>
    /// In each rank: times the reduction of gradients shaped like the TinyStories model's as training does it, and
    /// as one MPI call per tensor (split beyond <see cref="PerTensorChunk"/> floats), which is how SharpLM reduced
    /// them before the flat buffer.
    /// </summary>
    static unsafe void AllReduceInRank()
    {
        var world = LaunchedWorld.FromEnvironment() ?? throw new InvalidOperationException("the all-reduce part runs under an MPI launcher with 2 or more ranks.");
        using var group = MpiProcessGroup.Start(world);
        using var generator = new Generator(1);
        using var model = new TransformerLM(TransformerConfig.TinyStories, CPU, generator: generator);
        List<Parameter> parameters = [.. model.parameters()];
        using (NewDisposeScope())
        {
            parameters.Select(p => p.sum()).Aggregate((a, b) => a.add(b, Scalars.One)).backward();
        }
        for (int i = 0; i < ReduceWarmup + ReduceIterations; i++)
        {
            group.Barrier();
            long start = Stopwatch.GetTimestamp();
            group.GradientReduction.Reduce(parameters);
            double flat = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            group.Barrier();
            start = Stopwatch.GetTimestamp();
            foreach (var parameter in parameters)
            {
                using var gradient = parameter.grad!;
                float* address = (float*)RawMemory.Address(gradient);
                for (long offset = 0; offset < gradient.numel(); offset += PerTensorChunk)
                {
                    group.SumInPlace(address + offset, (int)Math.Min(PerTensorChunk, gradient.numel() - offset));
                }
            }
            double perTensor = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (group.Rank == 0 && i >= ReduceWarmup)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"flat-ms {flat}\nper-tensor-ms {perTensor}"));
            }
        }
        if (group.Rank == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"floats {parameters.Sum(p => p.numel())}\ntensors {parameters.Count}"));
        }
    }

    /// <summary>In each rank (or the one process): training steps on 1 thread, rank 0 printing the step and reduction times.</summary>
    static void StepsInRank()
    {
        NativeHeap.RetainFreedMemory();
        set_num_threads(1);
        var world = LaunchedWorld.FromEnvironment();
        using var group = world is null ? null : MpiProcessGroup.Start(world);
        int rank = group?.Rank ?? 0;
        var config = TransformerConfig.TinyStories;
        var precision = PrecisionChoice.Resolve(PrecisionSetting.Auto, CPU);
        using var modelGenerator = new Generator(1);
        using var model = new TransformerLM(config, CPU, generator: modelGenerator);
        using var optimizer = new SharpLM.Training.AdamW(model.parameters(), 1e-3, 0.9, 0.95, 1e-8, 0.1);
        var reduction = group is null ? null : new TimedReduction(group.GradientReduction, group);
        var step = new TrainingStep(model, optimizer, precision.Precision, gradientClip: 1.0, reduction: reduction);
        // Each rank its own batch, as data-parallel training draws them.
        using var dataGenerator = new Generator((ulong)(10 + rank));
        using var inputs = randint(config.VocabSize, [BatchPerRank, config.ContextLength], generator: dataGenerator, dtype: ScalarType.Int64);
        using var targets = randint(config.VocabSize, [BatchPerRank, config.ContextLength], generator: dataGenerator, dtype: ScalarType.Int64);
        for (int i = 0; i < StepWarmup + StepIterations; i++)
        {
            group?.Barrier();
            long start = Stopwatch.GetTimestamp();
            step.Take(() => (inputs, targets), readLoss: false);
            double milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (rank == 0 && i >= StepWarmup)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step-ms {milliseconds}"));
                if (reduction is not null)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"reduce-ms {reduction.LastMilliseconds}\nwait-ms {reduction.LastWaitMilliseconds}\nfaults {reduction.LastPageFaults}"));
                }
            }
        }
        if (rank == 0)
        {
            Console.WriteLine($"precision {precision}");
        }
    }

    /// <summary>The reduction training uses, timed.</summary>
    sealed class TimedReduction(IGradientReduction inner, IProcessGroup group) : IGradientReduction
    {
        public double LastMilliseconds { get; private set; }

        public double LastWaitMilliseconds { get; private set; }

        public long LastPageFaults { get; private set; }

        public void Reduce(IReadOnlyList<Parameter> parameters)
        {
            long start = Stopwatch.GetTimestamp();
            group.Barrier();
            double waited = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            long faults = MinorPageFaults();
            start = Stopwatch.GetTimestamp();
            inner.Reduce(parameters);
            LastMilliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            LastPageFaults = MinorPageFaults() - faults;
            // The rank that arrived first waited for the last: the longest wait of any rank is the step's imbalance.
            Span<double> waits = new double[group.Size];
            waits[group.Rank] = waited;
            group.SumInPlace(waits);
            double longest = 0;
            foreach (double wait in waits)
            {
                longest = Math.Max(longest, wait);
            }
            LastWaitMilliseconds = longest;
        }

        /// <summary>Field 10 of /proc/self/stat (after the parenthesised command name).</summary>
        static long MinorPageFaults()
        {
            string stat = File.ReadAllText("/proc/self/stat");
            return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7], CultureInfo.InvariantCulture);
        }
    }

    static string Ms(Measurement m) => string.Create(CultureInfo.InvariantCulture, $"{m.MedianMilliseconds:F0} ({m.BestMilliseconds:F0})");

    static string GigabytesPerSecond(double bytes, Measurement m) => F(bytes / (m.MedianMilliseconds * 1e-3) / 1e9, "F2");

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
