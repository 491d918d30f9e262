using System.Diagnostics;
using System.Globalization;
using SharpLM.Accounting;
using SharpLM.Data;
using SharpLM.Memory;
using SharpLM.Precision;
using SharpLM.Model;
using SharpLM.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>
/// A full training step of the TinyStories model (forward, cross-entropy, backward, clipping, AdamW: the
/// <see cref="TrainingStep"/> that `sharplm train` runs) at batch 16 × context 256 in fp32 and in bf16 mixed precision,
/// side by side with the same step in PyTorch when Debian's python3-torch is installed: tokens/s, model FLOP
/// utilisation against the fp32 and the bf16 matmul peaks measured in the same run, the projection of the handout's
/// 40,960,000-token CPU run, where the bf16 forward's time goes, batch sampling throughput, and measured peak memory
/// beside the accounting's prediction.
/// </summary>
public static class TrainingStepBenchmarks
{
    const int BatchSize = 16, Warmup = 1, Iterations = 3, Rounds = 2;
    const long HandoutTokens = 40_960_000;
    static readonly TimeSpan HandoutTime = new(1, 22, 0);

    /// <summary>Set in a child process that measures the peak memory of one step at this batch size.</summary>
    const string MemoryBatchVariable = "SHARPLM_BENCH_MEMORY_BATCH";

    /// <summary>Set in a child process that times training steps in this precision.</summary>
    const string StepPrecisionVariable = "SHARPLM_BENCH_STEP_PRECISION";

    public static void Run()
    {
        var device = CPU;
        var config = TransformerConfig.TinyStories;
        // As TrainingSession does for every run: freed native memory is kept for the next step.
        NativeHeap.RetainFreedMemory();
        if (Environment.GetEnvironmentVariable(MemoryBatchVariable) is { } batch)
        {
            MeasureOneStep(config, device, int.Parse(batch, CultureInfo.InvariantCulture));
            return;
        }
        if (Environment.GetEnvironmentVariable(StepPrecisionVariable) is { } precision)
        {
            TimeSteps(config, device, Enum.Parse<PrecisionSetting>(precision));
            return;
        }
        double fp32Peak = MatmulPeak.PeakGigaflopsPerSecond(device, ScalarType.Float32);
        double bf16Peak = MatmulPeak.PeakGigaflopsPerSecond(device, ScalarType.BFloat16);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"matmul peaks (same run): fp32 {fp32Peak:F1} GFLOP/s, bf16 {bf16Peak:F1} GFLOP/s; {PrecisionChoice.Resolve(PrecisionSetting.Auto, device)}"));
        Console.WriteLine();

        string? peerMissing = PyTorchPeer.Unavailable();
        int threads = get_num_threads();
        double? peerBefore = peerMissing is null ? PyTorchPeer.StepMilliseconds(threads, BatchSize, autocastBf16: false) : null;
        var steps = StepMilliseconds([PrecisionSetting.Fp32, PrecisionSetting.Bf16]);
        double? peerAfter = peerMissing is null ? PyTorchPeer.StepMilliseconds(threads, BatchSize, autocastBf16: false) : null;
        double? peerBf16 = peerMissing is null ? PyTorchPeer.StepMilliseconds(threads, BatchSize, autocastBf16: true) : null;

        double flops = FlopAccounting.TrainingStep(config, BatchSize);
        long tokens = (long)BatchSize * config.ContextLength;
        var rows = new List<IReadOnlyList<string>>();
        void Row(string name, double milliseconds)
        {
            double gflops = flops / (milliseconds * 1e-3) / 1e9;
            var projected = TimeSpan.FromSeconds(HandoutTokens / (tokens / (milliseconds * 1e-3)));
            rows.Add([name, F(milliseconds, "F0"), F(tokens / (milliseconds * 1e-3), "N0"), F(gflops, "F1"),
                F(100 * gflops / fp32Peak, "F1") + "%", F(100 * gflops / bf16Peak, "F1") + "%", Hours(projected)]);
        }
        Row("SharpLM fp32", steps[PrecisionSetting.Fp32]);
        Row("SharpLM bf16", steps[PrecisionSetting.Bf16]);
        if (peerBefore is { } before && peerAfter is { } after && peerBf16 is { } peerMixed)
        {
            Row("PyTorch fp32, before", before);
            Row("PyTorch fp32, after", after);
            Row("PyTorch bf16 autocast", peerMixed);
        }
        MarkdownTable.Print(Console.Out,
            ["step", "ms", "tokens/s", "GFLOP/s", "MFU (fp32 peak)", "MFU (bf16 peak)", $"40.96M-token run (handout: {Hours(HandoutTime)} on 16 cores)"], rows);
        Console.WriteLine();

        double bf16Ms = steps[PrecisionSetting.Bf16];
        double bf16Mfu = flops / (bf16Ms * 1e-3) / 1e9 / bf16Peak;
        var bf16Run = TimeSpan.FromSeconds(HandoutTokens / (tokens / (bf16Ms * 1e-3)));
        var targets = new List<IReadOnlyList<string>>
        {
            Target("bf16 step ÷ fp32 step (speed)", steps[PrecisionSetting.Fp32] / bf16Ms, "F2", "×", 3, "≥ 3×"),
            Target("bf16 tokens/s", tokens / (bf16Ms * 1e-3), "N0", "", 2500, "≥ 2,500"),
            Target("bf16 MFU against the bf16 peak", 100 * bf16Mfu, "F1", "%", 45, "≥ 45%"),
            (IReadOnlyList<string>)["40.96M-token run at the bf16 speed", Hours(bf16Run), "≤ 4 h 30 min", bf16Run <= TimeSpan.FromHours(4.5) ? "met" : "MISSED"],
        };
        if (peerBefore is { } b && peerAfter is { } a)
        {
            double peer = (a + b) / 2;
            targets.Add(Target("SharpLM fp32 ÷ PyTorch fp32 (speed, mean of before and after)", peer / steps[PrecisionSetting.Fp32], "F2", "×", null, ""));
            targets.Add(Target("SharpLM bf16 ÷ PyTorch fp32 (speed)", peer / bf16Ms, "F2", "×", 4, "≥ 4×"));
            targets.Add(Target("SharpLM bf16 ÷ PyTorch bf16 autocast (speed)", peerBf16!.Value / bf16Ms, "F2", "×", null, ""));
        }
        else
        {
            targets.Add(["SharpLM ÷ PyTorch", "not measured", "", $"peer unavailable: {peerMissing}"]);
        }
        MarkdownTable.Print(Console.Out, ["target", "measured", "goal", "result"], targets);
        Console.WriteLine();

        ForwardProfile(config, device, PrecisionSetting.Bf16);
        Console.WriteLine();
        BatchSampling(config);
        Console.WriteLine();
        MemoryBesidePrediction(config);
    }

    static IReadOnlyList<string> Target(string name, double value, string format, string unit, double? goal, string goalText) =>
        [name, F(value, format) + unit, goalText, goal is { } g ? (value >= g ? "met" : "MISSED") : ""];

    /// <summary>
    /// Median milliseconds of a whole <see cref="TrainingStep"/> in each precision. Each measurement runs in a fresh
    /// process, as a user trains one model per process (two models stepping in turn in one process share, and
    /// fragment, the retained native heap); the precisions alternate over <see cref="Rounds"/> rounds so that
    /// background load falls on both alike.
    /// </summary>
    static Dictionary<PrecisionSetting, double> StepMilliseconds(PrecisionSetting[] precisions)
    {
        var samples = precisions.ToDictionary(p => p, _ => new List<double>());
        for (int round = 0; round < Rounds; round++)
        {
            foreach (var precision in precisions)
            {
                samples[precision].AddRange(InChildProcess(StepPrecisionVariable, precision.ToString(), "step-ms "));
            }
        }
        return samples.ToDictionary(s => s.Key, s => Measurement.Of(s.Value).MedianMilliseconds);
    }

    /// <summary>In the child: <see cref="Iterations"/> timed steps after <see cref="Warmup"/>, one line each.</summary>
    static void TimeSteps(TransformerConfig config, Device device, PrecisionSetting precision)
    {
        using var generator = new Generator(1);
        using var inputs = randint(config.VocabSize, [BatchSize, config.ContextLength], generator: generator, dtype: ScalarType.Int64);
        using var targets = randint(config.VocabSize, [BatchSize, config.ContextLength], generator: generator, dtype: ScalarType.Int64);
        using var model = new TransformerLM(config, device, generator: generator);
        using var optimizer = new SharpLM.Training.AdamW(model.parameters(), 1e-3, 0.9, 0.95, 1e-8, 0.1);
        var step = new TrainingStep(model, optimizer, precision, gradientClip: 1.0);
        for (int i = 0; i < Warmup + Iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step.Take(() => (inputs, targets), readLoss: false);
            if (i >= Warmup)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step-ms {Stopwatch.GetElapsedTime(start).TotalMilliseconds}"));
            }
        }
    }

    /// <summary>Whole hours and minutes: a TimeSpan's h format wraps at 24 hours.</summary>
    static string Hours(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalHours} h {span.Minutes:00} min");

    /// <summary>Forward time per component, measured with forward hooks (libtorch on CPU runs each op to completion).</summary>
    static void ForwardProfile(TransformerConfig config, Device device, PrecisionSetting precision)
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
        using (Autocast.Enter(precision))
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
            $"Forward pass by component ({precision.ToString().ToLowerInvariant()}, batch {BatchSize}, no grad, mean of {Iterations}; model forward {1e3 * forwardSeconds / Iterations:F0} ms):"));
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

    static long? MeasureInChildProcess(int batchSize) =>
        InChildProcess(MemoryBatchVariable, batchSize.ToString(CultureInfo.InvariantCulture), "peak-bytes ").Select(v => (long?)(long)v).FirstOrDefault();

    /// <summary>Runs this suite again in a child process with <paramref name="variable"/> set; the values of its lines that start with <paramref name="prefix"/>.</summary>
    static List<double> InChildProcess(string variable, string value, string prefix) =>
        ChildProcess.Values(ChildProcess.Run("training", new Dictionary<string, string> { [variable] = value }, []), prefix);

    /// <summary>In the child: build the model and AdamW, take one step, print VmHWM − VmRSS before.</summary>
    static void MeasureOneStep(TransformerConfig config, Device device, int batchSize)
    {
        long baseline = PeakMemory.Status("VmRSS");
        using var generator = new Generator(5);
        using var model = new TransformerLM(config, device, generator: generator);
        using var optimizer = new SharpLM.Training.AdamW(model.parameters(), 1e-3);
        using var inputs = randint(config.VocabSize, [batchSize, config.ContextLength], generator: generator, dtype: ScalarType.Int64);
        new TrainingStep(model, optimizer, PrecisionSetting.Fp32, gradientClip: 1.0).Take(() => (inputs, inputs), readLoss: false);
        Console.WriteLine($"peak-bytes {PeakMemory.Status("VmHWM") - baseline}");
    }

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    static string Mb(long bytes) => (bytes / 1e6).ToString("F0", CultureInfo.InvariantCulture);
}
