using SharpLM.Training;

namespace SharpLM.Experiments;

/// <summary>
/// Learning curves of several runs on one chart, by step and by wall-clock time: one colour and one legend
/// entry per run (validation loss with markers, training loss as a faint line of the same colour), on a log
/// loss axis when the losses span more than a factor of <see cref="LogScaleRatio"/>.
/// </summary>
public static class ComparisonCurves
{
    public const double LogScaleRatio = 3;

    public static void Save(IReadOnlyList<RunSummary> runs, IReadOnlyList<string> labels, string byStepPath, string byTimePath)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(labels);
        Save(runs, labels, r => r.Step, "step", byStepPath);
        Save(runs, labels, r => r.Seconds / 60, "wall-clock minutes", byTimePath);
    }

    static void Save(IReadOnlyList<RunSummary> runs, IReadOnlyList<string> labels, Func<MetricRecord, double> x, string xLabel, string path)
    {
        var losses = runs.SelectMany(run => run.Records).SelectMany(r => new[] { r.TrainLoss, r.ValLoss }).OfType<double>().Where(l => double.IsFinite(l) && l > 0).ToList();
        bool logScale = losses.Count > 0 && losses.Max() / losses.Min() > LogScaleRatio;
        double Y(double loss) => logScale ? Math.Log10(loss) : loss;
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < runs.Count; i++)
        {
            var color = palette.GetColor(i);
            var train = runs[i].Records.Where(r => r.TrainLoss is { } l && double.IsFinite(l) && l > 0).ToList();
            if (train.Count > 0)
            {
                var line = plot.Add.ScatterLine(train.Select(x).ToArray(), train.Select(r => Y(r.TrainLoss!.Value)).ToArray(), color.WithAlpha(0.35));
                line.LineWidth = 1;
            }
            var validation = runs[i].Records.Where(r => r.ValLoss is { } l && double.IsFinite(l) && l > 0).ToList();
            var (main, y) = validation.Count > 0 ? (validation, (Func<MetricRecord, double>)(r => Y(r.ValLoss!.Value))) : (train, r => Y(r.TrainLoss!.Value));
            if (main.Count > 0)
            {
                var series = plot.Add.Scatter(main.Select(x).ToArray(), main.Select(y).ToArray(), color);
                series.LineWidth = 2;
                series.MarkerSize = main.Count > 50 ? 0 : 5;
                series.LegendText = labels[i] + (runs[i].Diverged ? " (diverged)" : "");
            }
        }
        if (logScale)
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            foreach (double value in LogTicks(losses.Min(), losses.Max()))
            {
                ticks.AddMajor(Math.Log10(value), value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture));
            }
            plot.Axes.Left.TickGenerator = ticks;
        }
        plot.XLabel(xLabel);
        plot.YLabel("loss, nats/token" + (logScale ? " (log scale)" : "") + "; bold: validation, faint: training");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        byte[] png = plot.GetImageBytes(1000, 600, ScottPlot.ImageFormat.Png);
        IO.AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>1, 1.5, 2, 3, 5, 7 times each power of ten that falls in the range.</summary>
    static IEnumerable<double> LogTicks(double min, double max)
    {
        for (double decade = Math.Pow(10, Math.Floor(Math.Log10(min))); decade <= max; decade *= 10)
        {
            foreach (double mantissa in new[] { 1, 1.5, 2, 3, 5, 7 })
            {
                double value = decade * mantissa;
                if (value >= min / 1.2 && value <= max * 1.2)
                {
                    yield return value;
                }
            }
        }
    }
}
