using SharpLM.Cli;
using SharpLM.Data;

namespace SharpLM.Tests.Cli;

[Collection(ProcessMemoryCollection.Name)]
public sealed class TrainAndGenerateCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-cli-train-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string Corpus(string name, int stories, int seed) => Cli.TinyTraining.Corpus(directory, name, stories, seed);

    string[] TinyTraining(string runDirectory, params string[] overrides) => Cli.TinyTraining.Arguments(directory, runDirectory, overrides);

    [Fact]
    public void Train_ThenGenerate_WritesTheRunAndStreamsDeterministicText()
    {
        string run = Path.Combine(directory, "run");
        var trained = CliRun.Of(TinyTraining(run));
        Assert.True(trained.ExitCode == ExitCodes.Success, trained.Error + trained.Output);
        Assert.Contains("done: step 12", trained.Output, StringComparison.Ordinal);
        foreach (string file in new[] { "config.json", "metrics.jsonl", "loss-by-step.png", "loss-by-time.png", "tokenizer/vocab.json", "checkpoints/step-00000012.ckpt" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} is missing");
        }

        string[] generate = ["generate", "--checkpoint", run, "--prompt", "Once upon a time", "--max-tokens", "20", "--temperature", "0.9", "--seed", "5"];
        var first = CliRun.Of(generate);
        var second = CliRun.Of(generate);
        Assert.Equal(ExitCodes.Success, first.ExitCode);
        Assert.StartsWith("Once upon a time", first.Output, StringComparison.Ordinal);
        Assert.Equal(first.Output, second.Output);
        Assert.Matches(@"\[\d+ tokens, (stopped at <\|endoftext\|>|reached --max-tokens)\]", first.Error);
    }

    [Fact]
    public void Train_Resume_ContinuesFromTheLatestCheckpoint()
    {
        string run = Path.Combine(directory, "resume");
        Assert.Equal(ExitCodes.Success, CliRun.Of(TinyTraining(run)).ExitCode);
        var again = CliRun.Of(TinyTraining(run));
        Assert.Equal(ExitCodes.InputError, again.ExitCode);
        Assert.Contains("--resume", again.Error, StringComparison.Ordinal);

        var resumed = CliRun.Of("train", "--resume", "--run-dir", run, "--steps", "18");
        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error + resumed.Output);
        Assert.Contains("resuming at step 12", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("done: step 18", resumed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_InBf16_SaysSoAndResumesInFp32FromItsFloat32Checkpoint()
    {
        string run = Path.Combine(directory, "bf16");
        var trained = CliRun.Of(TinyTraining(run, "--precision", "bf16"));
        Assert.True(trained.ExitCode == ExitCodes.Success, trained.Error + trained.Output);
        Assert.Contains("precision: bf16 (set explicitly)", trained.Output, StringComparison.Ordinal);
        var saved = SharpLM.Training.TrainingConfig.Load(Path.Combine(run, "config.json"));
        Assert.Equal(SharpLM.Precision.PrecisionSetting.Bf16, saved.Precision);
        Assert.Equal("set explicitly", saved.PrecisionReason);

        var resumed = CliRun.Of("train", "--resume", "--run-dir", run, "--steps", "18", "--precision", "fp32");
        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error + resumed.Output);
        Assert.Contains("precision: fp32 (set explicitly)", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("done: step 18", resumed.Output, StringComparison.Ordinal);

        var generated = CliRun.Of("generate", "--checkpoint", run, "--prompt", "Once", "--max-tokens", "8", "--precision", "bf16");
        Assert.True(generated.ExitCode == ExitCodes.Success, generated.Error);
        Assert.StartsWith("Once", generated.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_ByDefault_RecordsTheAutomaticChoiceAndItsReason()
    {
        string run = Path.Combine(directory, "auto");
        var trained = CliRun.Of(TinyTraining(run, "--steps", "3", "--eval-interval", "3", "--checkpoint-interval", "3"));
        Assert.True(trained.ExitCode == ExitCodes.Success, trained.Error + trained.Output);

        var expected = SharpLM.Precision.PrecisionChoice.Resolve(SharpLM.Precision.PrecisionSetting.Auto, TorchSharp.torch.CPU);
        Assert.Contains($"precision: {expected}", trained.Output, StringComparison.Ordinal);
        var saved = SharpLM.Training.TrainingConfig.Load(Path.Combine(run, "config.json"));
        Assert.Equal(expected.Precision, saved.Precision);
        Assert.StartsWith("auto: the CPU reports", saved.PrecisionReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_WithFloat16_IsRefusedWithOneLine()
    {
        var result = CliRun.Of(TinyTraining(Path.Combine(directory, "fp16"), "--precision", "fp16"));
        Assert.NotEqual(ExitCodes.Success, result.ExitCode);
        Assert.Contains("fp16", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_WithMissingFile_FailsWithOneLineError()
    {
        var result = CliRun.Of("train", "--train", Path.Combine(directory, "none.txt"), "--run-dir", Path.Combine(directory, "r1"));
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Equal($"error: train data not found: {Path.Combine(directory, "none.txt")}", result.Error.Trim());
    }

    [Fact]
    public void Train_WithEmptyFile_FailsWithOneLineError()
    {
        string empty = Path.Combine(directory, "empty.txt");
        File.WriteAllText(empty, "");
        var result = CliRun.Of("train", "--train", empty, "--run-dir", Path.Combine(directory, "r2"));
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("empty", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Fact]
    public void Train_WithContextLongerThanTheData_FailsBeforeTraining()
    {
        string run = Path.Combine(directory, "r3");
        var result = CliRun.Of(TinyTraining(run, "--context-length", "100000"));
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("context length 100000 needs at least 100001 tokens", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoints")) && Directory.EnumerateFiles(Path.Combine(run, "checkpoints")).Any());
    }

    [Fact]
    public void Train_WithUnwritableRunDirectory_FailsWithOneLineError()
    {
        string file = Path.Combine(directory, "a-file");
        File.WriteAllText(file, "not a directory");
        var result = CliRun.Of(TinyTraining(Path.Combine(file, "run")));
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("cannot write the run directory", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_WithBadHyperParameter_NamesIt()
    {
        var result = CliRun.Of(TinyTraining(Path.Combine(directory, "r4"), "--warmup-iters", "50"));
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Equal("error: warmup_iters (50) must not exceed cosine_cycle_iters (12).", result.Error.Trim());
    }

    [Fact]
    public void Train_WithTimeBudget_StopsWhenSpentAndSaysSo()
    {
        string run = Path.Combine(directory, "budget");
        var trained = CliRun.Of(TinyTraining(run, "--time-budget", "2s", "--steps", "3", "--warmup-iters", "50"));
        Assert.True(trained.ExitCode == ExitCodes.Success, trained.Error + trained.Output);
        Assert.Contains("for 2s of training time", trained.Output, StringComparison.Ordinal);
        Assert.Contains("\"time_budget\": \"2s\"", File.ReadAllText(Path.Combine(run, "config.json")), StringComparison.Ordinal);
        var last = SharpLM.Training.MetricRecord.ReadAll(Path.Combine(run, "metrics.jsonl"))[^1];
        Assert.True(last.Step > 3 && last.Seconds >= 1, $"stopped at step {last.Step} after {last.Seconds} s");
    }

    [Fact]
    public void Train_WithMalformedTimeBudget_FailsInOneLine()
    {
        CliRun.Of(TinyTraining(Path.Combine(directory, "r5"), "--time-budget", "ten minutes")).AssertOneLineError("'ten minutes' is not a duration");
    }

    [Fact]
    public void Train_WithUnknownConfigKey_FailsNamingIt()
    {
        string config = Path.Combine(directory, "config.json");
        File.WriteAllText(config, """{ "batch_size": 4, "learning_rat": 0.1 }""");
        var result = CliRun.Of("train", "--config", config, "--train", Corpus("t.txt", 5, 1));
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("learning_rat", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_WithCorruptCheckpoint_FailsWithOneLineError()
    {
        string run = Path.Combine(directory, "corrupt");
        Assert.Equal(ExitCodes.Success, CliRun.Of(TinyTraining(run)).ExitCode);
        string checkpoint = Path.Combine(run, "checkpoints", "step-00000012.ckpt");
        byte[] bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length - 100)]);
        var result = CliRun.Of("generate", "--checkpoint", checkpoint, "--prompt", "Hi");
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("truncated", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Fact]
    public void Generate_WithMissingCheckpoint_FailsWithOneLineError()
    {
        var result = CliRun.Of("generate", "--checkpoint", Path.Combine(directory, "none.ckpt"));
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("checkpoint not found", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_OnTrainGenerateAndQuickstart_ExitsZero()
    {
        foreach (string verb in new[] { "train", "generate", "quickstart" })
        {
            var result = CliRun.Of(verb, "--help");
            Assert.Equal(ExitCodes.Success, result.ExitCode);
            Assert.Contains("--", result.Output, StringComparison.Ordinal);
        }
    }
}
