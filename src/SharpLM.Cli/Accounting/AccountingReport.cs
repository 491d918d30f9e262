using System.Globalization;
using SharpLM.Accounting;
using SharpLM.Model;

namespace SharpLM.Cli.Accounting;

/// <summary>What `sharplm accounting` asked for, resolved and validated.</summary>
internal sealed record AccountingRequest(
    string ShapeName,
    TransformerConfig Config,
    string DTypeName,
    int BytesPerElement,
    int? BatchSize,
    string? MemoryText,
    long? MemoryBytes,
    TrainingTime? Training);

/// <summary>Prints the resource accounting of one model shape as plain-text tables.</summary>
internal static class AccountingReport
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Write(TextWriter output, AccountingRequest request)
    {
        var config = request.Config;
        output.WriteLine(
            $"{request.ShapeName}: vocab_size {N(config.VocabSize)}, context_length {N(config.ContextLength)}, d_model {N(config.DModel)}, " +
            $"num_layers {config.NumLayers}, num_heads {config.NumHeads}, d_ff {N(config.DFf)}; " +
            $"{request.DTypeName}, {request.BytesPerElement} bytes per element; {config.DescribeOptions()}");

        var parameters = ParameterAccounting.ByComponent(config);
        output.WriteLine();
        WriteTable(output, "Parameters", parameters);

        output.WriteLine();
        WriteTable(
            output,
            config.Ffn == FeedForwardKind.Swiglu
                ? "Activations per sequence, in elements (adamwAccounting (a)'s list, plus SwiGLU's W3 and product)"
                : "Activations per sequence, in elements (adamwAccounting (a)'s list)",
            ActivationAccounting.ByComponent(config));

        var forward = FlopAccounting.ForwardByComponent(config);
        output.WriteLine();
        WriteTable(output, $"Forward FLOPs per sequence of {N(config.ContextLength)} tokens (matmuls only, 2·m·n·p each)", forward);
        long forwardTotal = ComponentCost.Sum(forward);
        output.WriteLine($"  backward = 2 × forward: {N(FlopAccounting.Backward(config))}");
        output.WriteLine($"  AdamW step, {FlopAccounting.AdamWFlopsPerParameter} FLOPs per parameter: {N(FlopAccounting.AdamWStep(config))}");
        output.WriteLine($"  training step (forward, backward, AdamW): 3 · {N(forwardTotal)} · batch_size + {N(FlopAccounting.AdamWStep(config))}");

        WriteMemory(output, request);
        if (request.Training is { } training)
        {
            WriteTraining(output, training);
        }
    }

    static void WriteMemory(TextWriter output, AccountingRequest request)
    {
        var memory = PeakMemory.Of(request.Config, request.BytesPerElement);
        output.WriteLine();
        output.WriteLine($"Peak memory of an AdamW training step ({request.DTypeName})");
        var rows = new (string Label, long Bytes)[]
        {
            ("parameters", memory.ParameterBytes),
            ("gradients", memory.GradientBytes),
            ("AdamW state (m and v)", memory.OptimizerStateBytes),
            ("activations per sequence", memory.ActivationBytesPerSequence),
        };
        int labelWidth = rows.Max(row => row.Label.Length);
        int bytesWidth = rows.Max(row => N(row.Bytes).Length);
        foreach (var (label, bytes) in rows)
        {
            output.WriteLine($"  {label.PadRight(labelWidth)}  {N(bytes).PadLeft(bytesWidth)} bytes  {MemorySize.Format(bytes),10}");
        }
        output.WriteLine(
            $"  peak = a·batch_size + b bytes, a = {N(memory.BytesPerSequence)} ({MemorySize.Format(memory.BytesPerSequence)}), " +
            $"b = {N(memory.FixedBytes)} ({MemorySize.Format(memory.FixedBytes)})");
        if (request.BatchSize is { } batchSize)
        {
            long peak = memory.TotalBytes(batchSize);
            output.WriteLine($"  at batch size {N(batchSize)}: {N(peak)} bytes ({MemorySize.Format(peak)})");
        }
        if (request.MemoryBytes is { } budget)
        {
            long largest = memory.LargestBatch(budget);
            string why = largest > 0 ? ""
                : budget <= memory.FixedBytes ? "; parameters, gradients and optimizer state alone need more"
                : "; one sequence's activations do not fit beside parameters, gradients and optimizer state";
            output.WriteLine($"  largest batch in {request.MemoryText} ({N(budget)} bytes): {N(largest)}{why}");
        }
    }

    static void WriteTraining(TextWriter output, TrainingTime training)
    {
        output.WriteLine();
        output.WriteLine("Training time (adamwAccounting (d))");
        output.WriteLine(
            $"  {N(training.Steps)} steps × batch {N(training.BatchSize)} × {N(training.ContextLength)} tokens = {training.Tokens.ToString("N0", Invariant)} tokens");
        output.WriteLine($"  FLOPs per step (forward + backward + AdamW): {N(training.FlopsPerStep)}; in all {training.TotalFlops.ToString("0.###e0", Invariant)}");
        output.WriteLine(
            $"  at {(training.PeakFlopsPerSecond / 1e12).ToString("0.###", Invariant)} TFLOP/s peak × {training.ModelFlopsUtilization.ToString("0.###", Invariant)} MFU: " +
            Duration(training.Seconds));
    }

    /// <summary>Days, as the handout asks, and for runs shorter than a day the hours or minutes too.</summary>
    static string Duration(double seconds)
    {
        double days = seconds / 86_400;
        string inDays = days.ToString(days >= 10 ? "N1" : "0.###", Invariant) + " days";
        return days >= 1 ? inDays
            : seconds >= 3_600 ? $"{inDays} ({(seconds / 3_600).ToString("0.#", Invariant)} hours)"
            : $"{inDays} ({(seconds / 60).ToString("0.#", Invariant)} minutes)";
    }

    /// <summary>Component, each (one block or the single instance), blocks, total and share of the total.</summary>
    static void WriteTable(TextWriter output, string title, IReadOnlyList<ComponentCost> rows)
    {
        long total = ComponentCost.Sum(rows);
        var cells = rows
            .Select(row => new[] { row.Component, N(row.Each), row.Times.ToString(Invariant), N(row.Total), Share(row.Total, total) })
            .Append(["total", "", "", N(total), Share(total, total)])
            .ToList();
        string[] header = ["", "each", "×", "total", "share"];
        int[] widths = [.. Enumerable.Range(0, header.Length).Select(column => cells.Append(header).Max(cell => cell[column].Length))];

        output.WriteLine(title);
        foreach (var cell in cells.Prepend(header))
        {
            output.WriteLine(
                $"  {cell[0].PadRight(widths[0])}  {cell[1].PadLeft(widths[1])}  {cell[2].PadLeft(widths[2])}  {cell[3].PadLeft(widths[3])}  {cell[4].PadLeft(widths[4])}");
        }
    }

    static string Share(long part, long whole) => whole == 0 ? "" : ((double)part / whole).ToString("0.0%", Invariant);

    static string N(long value) => value.ToString("N0", Invariant);
}
