using System.Diagnostics;
using System.Globalization;
using SharpLM.Accounting;
using SharpLM.Data;
using SharpLM.Model;
using SharpLM.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>
/// A full training step of the TinyStories model (forward, cross-entropy, backward, clipping, AdamW) at batch 16 ×
/// context 256: tokens/s, model FLOP utilisation against the matmul peak measured in the same run, where the time
/// goes (phases, and forward time per component through hooks), the projection of the handout's 40,960,000-token CPU
/// run, batch sampling throughput, and measured peak memory beside the accounting's prediction.
/// </summary>
public static class TrainingStepBenchmarks
{
    const int BatchSize = 16, Warmup = 1, Iterations = 3;
    const long HandoutTokens = 40_960_000;
    static readonly TimeSpan HandoutTime = new(1, 22, 0);

    /// <summary>Set in a child process that measures the peak memory of one step at this batch size.</summary>
    const string MemoryBatchVariable = "SHARPLM_BENCH_MEMORY_BATCH";

    public static void Run()
    {
        var device = CPU;
        var config = TransformerConfig.TinyStories;
        if (Environment.GetEnvironmentVariable(MemoryBatchVariable) is { } batch)
        {
            MeasureOneStep(config, device, int.Parse(batch, CultureInfo.InvariantCulture));
            return;
        }
        double peak = MatmulPeak.PeakGigaflopsPerSecond(device);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fp32 matmul peak (same run): {peak:F1} GFLOP/s"));
        Console.WriteLine();

        var rows = new List<IReadOnlyList<string>>();
        foreach (var kernel in new[] { AttentionKernel.Fused, AttentionKernel.Reference })
        {
            var phases = StepPhases(config with { AttentionKernel = kernel }, device, BatchSize);
            double stepSeconds = phases.Values.Sum();
            double tokensPerSecond = BatchSize * config.ContextLength / stepSeconds;
            double flops = FlopAccounting.TrainingStep(config, BatchSize);
            double mfu = flops / stepSeconds / 1e9 / peak;
            var projected = TimeSpan.FromSeconds(HandoutTokens / tokensPerSecond);
            rows.Add([kernel.ToString(), F(stepSeconds * 1e3, "F0"), F(tokensPerSecond, "N0"), F(flops / stepSeconds / 1e9, "F1"),
                F(100 * mfu, "F1") + $"% ({(mfu >= 0.4 ? "met" : "MISSED")} ≥ 40%)",
                string.Join(", ", phases.Select(p => $"{p.Key} {100 * p.Value / stepSeconds:F0}%")),
                $"{projected:h\\:mm} (handout: {HandoutTime:h\\:mm} on 16 cores)"]);
        }
        MarkdownTable.Print(Console.Out,
            ["attention", "step ms", "tokens/s", "GFLOP/s", "MFU", "time by phase", "40.96M-token run"], rows);
        Console.WriteLine();

        ForwardProfile(config, device);
        Console.WriteLine();
        BatchSampling(config);
        Console.WriteLine();
        MemoryBesidePrediction(config);
    }

    /// <summary>Median seconds of each phase of a training step.</summary>
    static Dictionary<string, double> StepPhases(TransformerConfig config, Device device, int batchSize)
    {
        using var generator = new Generator(1);
        using var model = new TransformerLM(config, device, generator: generator);
        using var optimizer = new SharpLM.Training.AdamW(model.parameters(), 1e-3, 0.9, 0.95, 1e-8, 0.1);
        var parameters = model.parameters().ToList();
        using var inputs = randint(config.VocabSize, [batchSize, config.ContextLength], generator: generator, dtype: ScalarType.Int64);
        using var targets = randint(config.VocabSize, [batchSize, config.ContextLength], generator: generator, dtype: ScalarType.Int64);
        var samples = new Dictionary<string, List<double>> { ["forward"] = [], ["backward"] = [], ["clip"] = [], ["AdamW"] = [] };
        var clock = new Stopwatch();
        for (int i = 0; i < Warmup + Iterations; i++)
        {
            using var scope = NewDisposeScope();
            clock.Restart();
            var loss = Losses.CrossEntropy(model.call(inputs), targets);
            double forward = clock.Elapsed.TotalSeconds;
            optimizer.zero_grad();
            loss.backward();
            double backward = clock.Elapsed.TotalSeconds;
            GradientClipping.ClipGradNorm(parameters, 1.0);
            double clip = clock.Elapsed.TotalSeconds;
            optimizer.step();
            double step = clock.Elapsed.TotalSeconds;
            if (i >= Warmup)
            {
                samples["forward"].Add(forward);
                samples["backward"].Add(backward - forward);
                samples["clip"].Add(clip - backward);
                samples["AdamW"].Add(step - clip);
            }
        }
        return samples.ToDictionary(s => s.Key, s => Median(s.Value));
    }

    /// <summary>Forward time per component, measured with forward hooks (libtorch on CPU runs each op to completion).</summary>
    static void ForwardProfile(TransformerConfig config, Device device)
    {
        using var generator = new Generator(2);
        using var model = new TransformerLM(config, device, generator: generator);
        using var inputs = randint(config.VocabSize, [BatchSize, config.ContextLength], generator: generator, dtype: ScalarType.Int64);
        using var targets = randint(config.VocabSize, [BatchSize, config.ContextLength], generator: generator, dtype: ScalarType.Int64);
        var totals = new Dictionary<string, double>();
        var started = new Dictionary<nn.Module, long>();
        foreach (var (name, module) in model.named_modules())
        {
            string? component = Component(name);
            if (component is null || module is not nn.Module<Tensor, Tensor> hooked)
            {
                continue;
            }
            hooked.register_forward_pre_hook((m, input) => { started[m] = Stopwatch.GetTimestamp(); return input; });
            hooked.register_forward_hook((m, _, output) =>
            {
                totals[component] = totals.GetValueOrDefault(component) + Stopwatch.GetElapsedTime(started[m]).TotalSeconds;
                return output;
            });
        }
        double lossSeconds = 0, forwardSeconds = 0;
        using (var noGrad = no_grad())
        {
            for (int i = 0; i < Warmup + Iterations; i++)
            {
                if (i == Warmup)
                {
                    totals.Clear();
                }
                using var scope = NewDisposeScope();
                long start = Stopwatch.GetTimestamp();
                var logits = model.call(inputs);
                long afterModel = Stopwatch.GetTimestamp();
                Losses.CrossEntropy(logits, targets);
                if (i >= Warmup)
                {
                    forwardSeconds += Stopwatch.GetElapsedTime(start, afterModel).TotalSeconds;
                    lossSeconds += Stopwatch.GetElapsedTime(afterModel).TotalSeconds;
                }
            }
        }
        totals["cross-entropy"] = lossSeconds;
        var flops = FlopAccounting.ForwardByComponent(config, BatchSize).ToDictionary(c => c.Component, c => c.Total);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Forward pass by component (batch {BatchSize}, no grad, median of {Iterations}; model forward {1e3 * forwardSeconds / Iterations:F0} ms):"));
        Console.WriteLine();
        MarkdownTable.Print(Console.Out, ["component", "ms", "share"],
            totals.OrderByDescending(t => t.Value)
                .Select(t => (IReadOnlyList<string>)[t.Key, F(1e3 * t.Value / Iterations, "F1"), F(100 * t.Value / (forwardSeconds + lossSeconds), "F0") + "%"])
                .ToList());
        Console.WriteLine();
        Console.WriteLine("Forward FLOPs by component (accounting): " +
            string.Join(", ", flops.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key} {f.Value / 1e9:F1} G"))));
    }

    static string? Component(string name) => name switch
    {
        "token_embeddings" => "token embeddings",
        "ln_final" => "final RMSNorm",
        "lm_head" => "LM head",
        _ when name.EndsWith(".attn", StringComparison.Ordinal) => "attention (projections + SDPA)",
        _ when name.EndsWith(".ffn", StringComparison.Ordinal) => "SwiGLU feed-forward",
        _ when name.EndsWith(".ln1", StringComparison.Ordinal) || name.EndsWith(".ln2", StringComparison.Ordinal) => "block RMSNorms",
        _ => null,
    };

    static void BatchSampling(TransformerConfig config)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-bench-{Guid.NewGuid():N}.tokens");
        try
        {
            var random = new Random(3);
            TokenFile.Write(path, Enumerable.Range(0, 100).Select(_ => Enumerable.Range(0, 100_000).Select(_ => random.Next(config.VocabSize)).ToArray()),
                config.VocabSize, "bench");
            using var dataset = TokenDataset.Open(path);
            using var generator = new Generator(4);
            double milliseconds = Timing.MedianMilliseconds(() =>
            {
                using var scope = NewDisposeScope();
                Batches.GetBatch(dataset, BatchSize, config.ContextLength, CPU, generator);
            }, warmup: 20, iterations: 200);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"GetBatch ({BatchSize} × {config.ContextLength} from a memory-mapped file of {dataset.Count:N0} tokens): {milliseconds:F3} ms per batch, {BatchSize * config.ContextLength / (milliseconds * 1e-3) / 1e6:F1} M tokens/s"));
        }
        finally
        {
            File.Delete(path);
            File.Delete(TokenFile.SidecarPath(path));
        }
    }

    /// <summary>
    /// Peak resident memory of one training step beside a·batch + b. Each batch size runs in a fresh process: in a
    /// process that has already trained, freed heap pages are reused and hide the rise.
    /// </summary>
    static void MemoryBesidePrediction(TransformerConfig config)
    {
        var prediction = SharpLM.Accounting.PeakMemory.Of(config);
        var rows = new List<IReadOnlyList<string>>();
        foreach (int batchSize in new[] { 4, 16 })
        {
            long? measured = MeasureInChildProcess(batchSize);
            long predicted = prediction.TotalBytes(batchSize);
            rows.Add([batchSize.ToString(CultureInfo.InvariantCulture), Mb(predicted),
                measured is { } m ? Mb(m) : "n/a", measured is { } r ? F((double)r / predicted, "F2") : "n/a"]);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Peak memory of one training step (float32), prediction a·batch + b with a = {prediction.BytesPerSequence / 1e6:F1} MB, b = {prediction.FixedBytes / 1e6:F1} MB:"));
        Console.WriteLine();
        MarkdownTable.Print(Console.Out, ["batch", "predicted MB", "measured MB (peak RSS − RSS before the model)", "measured ÷ predicted"], rows);
    }

    static long? MeasureInChildProcess(int batchSize)
    {
        string process = Environment.ProcessPath!;
        var start = new ProcessStartInfo(process) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        }
        start.ArgumentList.Add("training");
        start.Environment[MemoryBatchVariable] = batchSize.ToString(CultureInfo.InvariantCulture);
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith("peak-bytes ", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line["peak-bytes ".Length..], CultureInfo.InvariantCulture);
    }

    /// <summary>In the child: build the model and AdamW, take one step, print VmHWM − VmRSS before.</summary>
    static void MeasureOneStep(TransformerConfig config, Device device, int batchSize)
    {
        long baseline = PeakMemory.Status("VmRSS");
        using var generator = new Generator(5);
        using var model = new TransformerLM(config, device, generator: generator);
        using var optimizer = new SharpLM.Training.AdamW(model.parameters(), 1e-3);
        using var scope = NewDisposeScope();
        var inputs = randint(config.VocabSize, [batchSize, config.ContextLength], generator: generator, dtype: ScalarType.Int64);
        var loss = Losses.CrossEntropy(model.call(inputs), inputs);
        loss.backward();
        GradientClipping.ClipGradNorm(model.parameters(), 1.0);
        optimizer.step();
        Console.WriteLine($"peak-bytes {PeakMemory.Status("VmHWM") - baseline}");
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    static string Mb(long bytes) => (bytes / 1e6).ToString("F0", CultureInfo.InvariantCulture);
}
