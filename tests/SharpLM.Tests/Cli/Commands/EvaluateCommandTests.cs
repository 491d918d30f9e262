using System.Globalization;
using System.Text.Json;
using SharpLM.Cli;
using SharpLM.Generation;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Cli.Commands;

/// <summary>`sharplm evaluate`, run in-process on the shared trained run.</summary>
[Collection(TrainedRunCollection.Name)]
public sealed class EvaluateCommandTests(TrainedRunFixture run)
{
    [Fact]
    public void Evaluate_WithJson_PrintsTheLibrarysNumbers()
    {
        var result = CliRun.Of("evaluate", "--checkpoint", run.Run, "--data", run.HeldOutText, "--stride", "16", "--json");
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        using var json = JsonDocument.Parse(result.Output);
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        var expected = HeldOutEvaluation.Run(trained, run.HeldOutText, 16, batchSize: 8, CPU);
        Assert.Equal(expected.Loss, json.RootElement.GetProperty("loss").GetDouble());
        Assert.Equal(expected.BitsPerByte, json.RootElement.GetProperty("bits_per_byte").GetDouble());
        Assert.Equal(expected.Tokens, json.RootElement.GetProperty("tokens").GetInt64());
        Assert.Equal(16, json.RootElement.GetProperty("stride").GetInt32());
        Assert.Equal(64, json.RootElement.GetProperty("window_length").GetInt32());
    }

    [Fact]
    public void Evaluate_AsText_StatesTheWindowingAndTheLoss()
    {
        var result = CliRun.Of("evaluate", "--checkpoint", run.Run, "--data", run.HeldOutText);
        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        var expected = HeldOutEvaluation.Run(trained, run.HeldOutText, null, batchSize: 8, CPU);
        Assert.Contains("windows of 64 tokens, stride 64 (non-overlapping)", result.Output, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.CurrentCulture, $"loss {expected.Loss:F4} nats/token"), result.Output, StringComparison.Ordinal);
        Assert.Contains("bits per byte", result.Output, StringComparison.Ordinal);
        Assert.Contains($"evaluating windows: done, {expected.Windows}", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_WithStrideLongerThanTheContext_FailsWithOneLineError() =>
        CliRun.Of("evaluate", "--checkpoint", run.Run, "--data", run.HeldOutText, "--stride", "65").AssertOneLineError("stride must be in [1, 64]");

    [Fact]
    public void Evaluate_WithMissingData_FailsWithOneLineError() =>
        CliRun.Of("evaluate", "--checkpoint", run.Run, "--data", Path.Combine(run.Directory, "none.txt")).AssertOneLineError("data file not found");
}
