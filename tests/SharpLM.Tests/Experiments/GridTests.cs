using SharpLM.Experiments;
using SharpLM.Training;

namespace SharpLM.Tests.Experiments;

public sealed class GridTests
{
    [Fact]
    public void Expand_OfTwoByThree_GivesSixPointsFirstAxisSlowest()
    {
        var points = SweepPoint.Expand([GridAxis.Parse("max_lr=1e-3,3e-3"), GridAxis.Parse("batch_size=8,16,32")]);

        Assert.Equal(
            ["max_lr=1e-3,batch_size=8", "max_lr=1e-3,batch_size=16", "max_lr=1e-3,batch_size=32", "max_lr=3e-3,batch_size=8", "max_lr=3e-3,batch_size=16", "max_lr=3e-3,batch_size=32"],
            points.Select(p => p.Name));
    }

    [Fact]
    public void Apply_SetsConfigKeysThroughAliasesAndKeepsTheRest()
    {
        var baseConfig = new TrainingConfig { DModel = 64, Precision = SharpLM.Precision.PrecisionSetting.Bf16 };
        var point = SweepPoint.Expand([GridAxis.Parse("max_lr=3e-3"), GridAxis.Parse("batch-size=16"), GridAxis.Parse("time_budget=2m")])[0];

        var config = point.Apply(baseConfig);

        Assert.Equal((3e-3, 16, TimeSpan.FromMinutes(2)), (config.MaxLearningRate, config.BatchSize, config.TimeBudget));
        Assert.Equal((64, SharpLM.Precision.PrecisionSetting.Bf16), (config.DModel, config.Precision));
    }

    [Theory]
    [InlineData("no_such_key=1", "no_such_key")]
    [InlineData("batch_size=many", "batch_size=many")]
    public void Apply_OfUnknownKeyOrWrongType_FailsNamingIt(string axis, string named)
    {
        var point = SweepPoint.Expand([GridAxis.Parse(axis)])[0];
        var exception = Assert.Throws<ArgumentException>(() => point.Apply(new TrainingConfig()));
        Assert.Contains(named, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("max_lr")]
    [InlineData("=1,2")]
    [InlineData("max_lr=")]
    [InlineData("max_lr=1,1")]
    public void Parse_OfMalformedAxis_Throws(string text)
    {
        Assert.Throws<FormatException>(() => GridAxis.Parse(text));
    }

    [Fact]
    public void Expand_WithAKeyTwice_Throws()
    {
        var exception = Assert.Throws<ArgumentException>(() => SweepPoint.Expand([GridAxis.Parse("max_lr=1"), GridAxis.Parse("max_learning_rate=2")]));
        Assert.Contains("max_learning_rate twice", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Divergence_BreachesOnNonFiniteOrFarAboveTheStart()
    {
        var rule = new Divergence(1.5);
        Assert.Null(rule.FirstBreach([7.6, 9.0, 11.3, 4.0]));
        Assert.Equal(11.5, rule.FirstBreach([7.6, 9.0, 11.5, 4.0]));
        Assert.True(double.IsNaN(rule.FirstBreach([7.6, double.NaN])!.Value));
        Assert.Equal(double.PositiveInfinity, rule.FirstBreach([double.PositiveInfinity]));
    }

    [Fact]
    public void Divergence_OfRecords_StartsFromTheUntrainedValidationLoss()
    {
        // A rate that blows up in the first few steps logs its first training loss far above the start already.
        MetricRecord[] records = [new() { Step = 0, ValLoss = 7.6 }, new() { Step = 10, TrainLoss = 86.5 }, new() { Step = 20, TrainLoss = 9.2 }];
        Assert.True(new Divergence(1.5).IsDiverged(records));
        Assert.False(new Divergence(1.5).IsDiverged(records[1..]));
    }

    [Fact]
    public void Divergence_OfRecords_IncludesAStepStoppedOnANonFiniteGradientNorm()
    {
        MetricRecord[] records = [new() { Step = 0, ValLoss = 7.6 }, new() { Step = 10, TrainLoss = 6.1, GradientNorm = 0.8 }];
        Assert.False(new Divergence(1.5).IsDiverged(records));
        Assert.True(new Divergence(1.5).IsDiverged([.. records, new() { Step = 11, GradientNorm = double.PositiveInfinity }]));
    }

    [Fact]
    public void ConfigDifferences_NameOnlyTheKeysThatVary()
    {
        var a = new TrainingConfig { MaxLearningRate = 1e-3, RunDirectory = "a", Threads = 1 };
        var b = a with { MaxLearningRate = 3e-3, BatchSize = 8, RunDirectory = "b", Threads = 2 };

        Assert.Equal(["max_learning_rate=0.001, batch_size=32", "max_learning_rate=0.003, batch_size=8"], ConfigDifferences.Describe([a, b]));
        Assert.Equal(["", "max_learning_rate=0.003, batch_size=8"], ConfigDifferences.Describe([a, b], reference: a));
    }
}
