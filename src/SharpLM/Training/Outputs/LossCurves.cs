namespace SharpLM.Training;

/// <summary>Loss-curve charts of a run, against steps and against wall-clock time.</summary>
public static class LossCurves
{
    /// <summary>Writes both PNGs (atomically) from the run's metrics; does nothing without any loss yet.</summary>
    public static void Save(IReadOnlyList<MetricRecord> records, string byStepPath, string byTimePath)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (!records.Any(r => r.TrainLoss is not null || r.ValLoss is not null))
        {
            return;
        }
        Save(records, r => r.Step, "step", byStepPath);
        Save(records, r => r.Seconds / 60, "wall-clock minutes", byTimePath);
    }

    static void Save(IReadOnlyList<MetricRecord> records, Func<MetricRecord, double> x, string xLabel, string path)
    {
        var plot = new ScottPlot.Plot();
        AddSeries(plot, records.Where(r => r.TrainLoss is { } l && double.IsFinite(l)), x, r => r.TrainLoss!.Value, "train loss");
        AddSeries(plot, records.Where(r => r.ValLoss is { } l && double.IsFinite(l)), x, r => r.ValLoss!.Value, "validation loss");
        plot.XLabel(xLabel);
        plot.YLabel("cross-entropy (nats/token)");
        plot.ShowLegend();
        byte[] png = plot.GetImageBytes(900, 540, ScottPlot.ImageFormat.Png);
        IO.AtomicFile.Write(path, stream => stream.Write(png));
    }

    static void AddSeries(ScottPlot.Plot plot, IEnumerable<MetricRecord> records, Func<MetricRecord, double> x, Func<MetricRecord, double> y, string label)
    {
        var points = records.ToList();
        if (points.Count == 0)
        {
            return;
        }
        var scatter = plot.Add.Scatter(points.Select(x).ToArray(), points.Select(y).ToArray());
        scatter.LegendText = label;
        scatter.MarkerSize = points.Count > 50 ? 0 : 4;
    }
}
