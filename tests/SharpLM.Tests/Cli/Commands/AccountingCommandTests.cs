using SharpLM.Cli;

namespace SharpLM.Tests.Cli.Commands;

public class AccountingCommandTests
{
    [Fact]
    public void Accounting_OnGpt2XlWith80GB_PrintsTheBreakdownTheFormulaAndTheLargestBatch()
    {
        var result = CliRun.Of("accounting", "--preset", "gpt2-xl", "--memory", "80GB");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        Assert.Contains("d_model 1,600, num_layers 48, num_heads 25, d_ff 6,400; float32, 4 bytes per element", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"total\s+2,127,057,600\s+100\.0%", result.Output);
        Assert.Matches(@"softmax\s+26,214,400\s+48\s+1,258,291,200", result.Output);
        Assert.Matches(@"LM head\s+164,682,137,600\s+1\s+164,682,137,600", result.Output);
        Assert.Contains("peak = a·batch_size + b bytes, a = 18,034,335,744 (18.03 GB), b = 34,032,921,600 (34.03 GB)", result.Output, StringComparison.Ordinal);
        Assert.Contains("largest batch in 80GB (80,000,000,000 bytes): 2", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Training time", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Accounting_WithArchitectureOptions_CountsTheVariant()
    {
        var result = CliRun.Of("accounting", "--preset", "tinystories", "--ffn", "silu", "--norm", "none", "--final-norm", "false", "--tie-embeddings", "true");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        Assert.Contains("d_ff 2,048; float32, 4 bytes per element; no block norms, no final norm, RoPE, SiLU FFN, tied embeddings", result.Output, StringComparison.Ordinal);
        // 10000·512 + 4·(4·512² + 2·512·2048): no head, no gains, no W3
        Assert.Matches(@"total\s+17,702,912\s+100\.0%", result.Output);
        Assert.DoesNotContain("W3", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("RMSNorm", result.Output, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\n\s+LM head\s+5,120,000", result.Output);
    }

    [Fact]
    public void Accounting_WithStepsBatchPeakAndMfu_AddsTheTrainingTimeInDays()
    {
        var result = CliRun.Of(
            "accounting", "--preset", "gpt2-xl", "--steps", "400000", "--batch-size", "1024", "--peak-tflops", "19.5", "--mfu", "0.5");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        Assert.Contains("400,000 steps × batch 1,024 × 1,024 tokens = 419,430,400,000 tokens", result.Output, StringComparison.Ordinal);
        Assert.Contains("at 19.5 TFLOP/s peak × 0.5 MFU: 6,583.6 days", result.Output, StringComparison.Ordinal);
        Assert.Contains("at batch size 1,024: ", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Accounting_WithATokenBudget_CountsWholeSteps()
    {
        var result = CliRun.Of("accounting", "--preset", "tinystories", "--tokens", "40960000", "--batch-size", "32", "--peak-tflops", "1");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        Assert.Contains("5,000 steps × batch 32 × 256 tokens = 40,960,000 tokens", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Accounting_WithoutOptions_AccountsTinyStories()
    {
        var result = CliRun.Of("accounting");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        Assert.StartsWith("tinystories: vocab_size 10,000, context_length 256, d_model 512", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"total\s+22,696,448\s+100\.0%", result.Output);
    }

    [Fact]
    public void Accounting_WithShapeFlags_OverridesThePreset()
    {
        var result = CliRun.Of("accounting", "--preset", "tinystories", "--num-layers", "2", "--d-ff", "2048", "--dtype", "bfloat16");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
        Assert.StartsWith("tinystories with overrides: ", result.Output, StringComparison.Ordinal);
        Assert.Contains("num_layers 2, num_heads 16, d_ff 2,048; bfloat16, 2 bytes per element", result.Output, StringComparison.Ordinal);
        // 2·10000·512 + 2·(4·512² + 3·512·2048 + 2·512) + 512
        Assert.Matches(@"total\s+18,631,168\s+100\.0%", result.Output);
    }

    [Theory]
    [InlineData("'80XB' is not a memory size", "--memory", "80XB")]
    [InlineData("'80' is not a memory size", "--memory", "80")]
    [InlineData("Memory size '0GB' is less than one byte", "--memory", "0GB")]
    [InlineData("Unknown preset 'gpt3'; expected one of gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, tinystories", "--preset", "gpt3")]
    [InlineData("d_model 30 is not divisible by num_heads 4", "--d-model", "30", "--num-heads", "4")]
    [InlineData("d_ff must be positive, got 0", "--d-ff", "0")]
    [InlineData("Unknown --dtype 'int8'", "--dtype", "int8")]
    [InlineData("--batch-size must be positive, got 0", "--batch-size", "0")]
    [InlineData("--steps needs --batch-size", "--steps", "10")]
    [InlineData("--tokens must be positive, got -5", "--tokens", "-5", "--batch-size", "2")]
    [InlineData("give one of them", "--steps", "10", "--tokens", "10", "--batch-size", "2")]
    [InlineData("--mfu must be in (0, 1], got 1.5", "--steps", "10", "--batch-size", "2", "--mfu", "1.5")]
    [InlineData("--peak-tflops must be positive and finite, got 0", "--steps", "10", "--batch-size", "2", "--peak-tflops", "0")]
    [InlineData("do not fit in 64-bit integers", "--context-length", "2000000000", "--d-model", "2000000000", "--num-heads", "1")]
    public void Accounting_WithBadInput_FailsWithOneLineError(string expectedFragment, params string[] options)
    {
        CliRun.Of(["accounting", .. options]).AssertOneLineError(expectedFragment);
    }

    [Fact]
    public void Help_OnAccounting_ExitsZeroAndListsThePresets()
    {
        var result = CliRun.Of("accounting", "--help");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("gpt2-xl", result.Output, StringComparison.Ordinal);
        Assert.Contains("--peak-tflops", result.Output, StringComparison.Ordinal);
    }
}
