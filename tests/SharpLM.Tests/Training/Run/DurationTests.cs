using SharpLM.Training;

namespace SharpLM.Tests.Training;

public sealed class DurationTests
{
    [Theory]
    [InlineData("10m", 600)]
    [InlineData("90s", 90)]
    [InlineData("1h30m", 5400)]
    [InlineData("2.5m", 150)]
    [InlineData("1h2m3s", 3723)]
    [InlineData("45", 45)]
    public void Parse_ReadsUnitsAndBareSeconds(string text, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Duration.Parse(text));
    }

    [Theory]
    [InlineData("10x")]
    [InlineData("m")]
    [InlineData("")]
    [InlineData("0s")]
    [InlineData("-5")]
    public void Parse_OfNonDurationOrNonPositive_ThrowsQuotingIt(string text)
    {
        var exception = Assert.Throws<FormatException>(() => Duration.Parse(text));
        Assert.Contains($"'{text}'", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(600, "10m")]
    [InlineData(5400, "1h30m")]
    [InlineData(12.5, "12.5s")]
    [InlineData(3723, "1h2m3s")]
    [InlineData(7200, "2h")]
    public void Format_WritesWhatParseReadsBack(double seconds, string text)
    {
        Assert.Equal(text, Duration.Format(TimeSpan.FromSeconds(seconds)));
        Assert.Equal(TimeSpan.FromSeconds(seconds), Duration.Parse(text));
    }

    [Fact]
    public void TrainingConfig_KeepsTimeBudgetAsDurationText()
    {
        var config = TrainingConfig.FromJson("""{ "time_budget": "10m", "warmup_time": 30 }""");
        Assert.Equal(TimeSpan.FromMinutes(10), config.TimeBudget);
        Assert.Equal(TimeSpan.FromSeconds(30), config.WarmupTime);
        Assert.Contains("\"time_budget\": \"10m\"", config.ToJson(), StringComparison.Ordinal);
        var again = TrainingConfig.FromJson(config.ToJson());
        Assert.Equal((config.TimeBudget, config.WarmupTime), (again.TimeBudget, again.WarmupTime));
    }

    [Fact]
    public void TrainingConfig_Validate_RejectsTwoLengthsAndLongWarmup()
    {
        var both = new TrainingConfig { TimeBudget = TimeSpan.FromMinutes(1), TokenBudget = 1000 };
        Assert.Contains("give one", Assert.Throws<ArgumentException>(both.Validate).Message, StringComparison.Ordinal);
        var warmup = new TrainingConfig { TimeBudget = TimeSpan.FromMinutes(1), WarmupTime = TimeSpan.FromMinutes(2) };
        Assert.Equal("warmup_time (2m) needs a time_budget at least as long, got 1m.", Assert.Throws<ArgumentException>(warmup.Validate).Message);
        // Under a time budget the step count does not bound the warm-up.
        new TrainingConfig { TimeBudget = TimeSpan.FromMinutes(1), Steps = 50 }.Validate();
    }
}
