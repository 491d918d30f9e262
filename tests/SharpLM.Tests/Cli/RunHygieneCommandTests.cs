using System.Diagnostics;
using SharpLM.Cli;
using SharpLM.Training;

namespace SharpLM.Tests.Cli;

/// <summary>What a run directory looks like after kills, corrupt checkpoints and failed starts (issue 9, log hygiene).</summary>
[Collection(ProcessMemoryCollection.Name)]
public sealed class RunHygieneCommandTests : IDisposable
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "SharpLM.Cli");

    readonly string directory = Directory.CreateTempSubdirectory("sharplm-cli-hygiene-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string[] Tiny(string run, params string[] overrides) => TinyTraining.Arguments(directory, run, overrides);

    static IReadOnlyList<MetricRecord> Metrics(string run) => MetricRecord.ReadAll(Path.Combine(run, "metrics.jsonl"));

    static string CheckpointFile(string run, int step) => Path.Combine(run, "checkpoints", $"step-{step:D8}.ckpt");

    /// <summary>
    /// The state a kill -9 leaves between two checkpoints, made deterministically: a 12-step run cut back to its
    /// checkpoint at step 6 and the records logged up to step 9. The resumed run logs steps 9 and 12 again, and
    /// metrics.jsonl must hold each once, with the values of the uninterrupted run (the resume is exact).
    /// </summary>
    [Fact]
    public void Resume_AfterStepsLoggedPastTheCheckpoint_LogsEachStepOnceWithTheUninterruptedValues()
    {
        string run = Path.Combine(directory, "run");
        Assert.Equal(ExitCodes.Success, CliRun.Of(Tiny(run)).ExitCode);
        var uninterrupted = Metrics(run);
        File.Delete(CheckpointFile(run, 12));
        File.WriteAllLines(Path.Combine(run, "metrics.jsonl"), uninterrupted.Where(record => record.Step <= 9).Select(record => record.ToJson()));

        var resumed = CliRun.Of("train", "--resume", "--run-dir", run);

        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error + resumed.Output);
        Assert.Contains("resuming at step 6", resumed.Output, StringComparison.Ordinal);
        var records = Metrics(run);
        Assert.Equal(Keys(uninterrupted), Keys(records));
        Assert.Equal(uninterrupted.Select(r => (r.TrainLoss, r.ValLoss)), records.Select(r => (r.TrainLoss, r.ValLoss)));
    }

    /// <summary>A kill in the middle of appending the record after a checkpoint leaves a torn line without its newline.</summary>
    [Fact]
    public void Resume_AfterAKillMidAppend_DropsTheTornLineAndLogsOnCleanly()
    {
        string run = Path.Combine(directory, "torn");
        Assert.Equal(ExitCodes.Success, CliRun.Of(Tiny(run)).ExitCode);
        var uninterrupted = Metrics(run);
        File.Delete(CheckpointFile(run, 12));
        string torn = uninterrupted.First(record => record.Step == 9).ToJson()[..20];
        File.WriteAllText(Path.Combine(run, "metrics.jsonl"),
            string.Concat(uninterrupted.Where(record => record.Step <= 6).Select(record => record.ToJson() + "\n")) + torn);

        var resumed = CliRun.Of("train", "--resume", "--run-dir", run);

        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error + resumed.Output);
        Assert.Equal(Keys(uninterrupted), Keys(Metrics(run)));
    }

    static IEnumerable<(long Step, bool Validation)> Keys(IEnumerable<MetricRecord> records) =>
        records.Select(record => (record.Step, record.ValLoss is not null));

    /// <summary>A real kill -9 of a separate `sharplm train` process somewhere after its first checkpoint, then a resume.</summary>
    [Fact]
    public void Resume_AfterKill9_LogsEveryTrainingStepExactlyOnce()
    {
        string run = Path.Combine(directory, "killed");
        var start = new ProcessStartInfo(Cli, Tiny(run, "--steps", "100000", "--log-interval", "1", "--checkpoint-interval", "10", "--eval-interval", "100000"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using (var process = Process.Start(start)!)
        {
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var clock = Stopwatch.StartNew();
            // Past the checkpoint at step 10 with steps logged after it, whichever step the kill lands on.
            while (!(File.Exists(CheckpointFile(run, 10)) && LastStep(run) >= 13))
            {
                Assert.False(process.HasExited, "the training process ended before it could be killed");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the training process made no progress");
                Thread.Sleep(20);
            }
            process.Kill(); // SIGKILL: no handler runs
            process.WaitForExit();
        }
        string newest = new RunDirectory(run).LatestCheckpoint()!;
        long checkpointStep = Checkpoint.ReadMetadata(newest).Iteration;
        Assert.True(LastStep(run) > checkpointStep, $"logged up to {LastStep(run)}, checkpoint at {checkpointStep}");

        long steps = checkpointStep + 5;
        var resumed = CliRun.Of("train", "--resume", "--run-dir", run, "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error + resumed.Output);
        var trainingSteps = Metrics(run).Where(record => record.TrainLoss is not null).Select(record => record.Step);
        Assert.Equal(Enumerable.Range(1, (int)steps).Select(step => (long)step), trainingSteps);
    }

    /// <summary>The last step logged so far; a line being appended may be incomplete, so only whole lines count.</summary>
    static long LastStep(string run)
    {
        string path = Path.Combine(run, "metrics.jsonl");
        if (!File.Exists(path))
        {
            return -1;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        string text = new StreamReader(stream).ReadToEnd();
        string[] lines = text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? -1 : System.Text.Json.JsonDocument.Parse(lines[^1]).RootElement.GetProperty("step").GetInt64();
    }

    [Fact]
    public void Resume_RemovesTheTemporariesOfInterruptedWrites_AndSaysSo()
    {
        string run = Path.Combine(directory, "stale");
        Assert.Equal(ExitCodes.Success, CliRun.Of(Tiny(run, "--steps", "6")).ExitCode);
        // What AtomicFile leaves when the process dies between creating its temporary and renaming it.
        string checkpointTemporary = Path.Combine(run, "checkpoints", $".step-00000012.ckpt.{Guid.NewGuid():N}.tmp");
        string configTemporary = Path.Combine(run, $".config.json.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(checkpointTemporary, new byte[1000]);
        File.WriteAllText(configTemporary, "{");

        var resumed = CliRun.Of("train", "--resume", "--run-dir", run, "--steps", "9");

        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error + resumed.Output);
        Assert.False(File.Exists(checkpointTemporary));
        Assert.False(File.Exists(configTemporary));
        Assert.Contains($"warning: removed {checkpointTemporary}", resumed.Error, StringComparison.Ordinal);
        Assert.Contains($"warning: removed {configTemporary}", resumed.Error, StringComparison.Ordinal);
        Assert.Equal(["step-00000006.ckpt", "step-00000009.ckpt"], Directory.GetFileSystemEntries(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order());
    }

    public static TheoryData<string> Damages => ["truncated", "bit flip", "empty"];

    static void Damage(string path, string damage)
    {
        byte[] bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "truncated":
                File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
                break;
            case "bit flip":
                bytes[bytes.Length / 2] ^= 0x10;
                File.WriteAllBytes(path, bytes);
                break;
            default:
                File.WriteAllBytes(path, []);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void ResumeAndGenerate_WithTheLatestCheckpointDamaged_NameItAndFallBackToTheNewestGoodOne(string damage)
    {
        string run = Path.Combine(directory, "damaged");
        Assert.Equal(ExitCodes.Success, CliRun.Of(Tiny(run)).ExitCode);
        // Long enough that the step-6 and step-12 weights sample different text.
        string[] generate = ["generate", "--checkpoint", run, "--prompt", "Once", "--max-tokens", "60", "--seed", "1"];
        string fromStep12 = CliRun.Of(generate).Output;
        string latest = CheckpointFile(run, 12), previous = CheckpointFile(run, 6);
        string fromStep6 = CliRun.Of([.. generate.Select(argument => argument == run ? previous : argument)]).Output;
        Assert.NotEqual(fromStep12, fromStep6);
        Damage(latest, damage);

        var generated = CliRun.Of(generate);
        Assert.True(generated.ExitCode == ExitCodes.Success, generated.Error);
        Assert.Equal(fromStep6, generated.Output);
        Assert.Contains($"warning: {latest} is unreadable (", generated.Error, StringComparison.Ordinal);
        Assert.Contains($"using {previous} instead", generated.Error, StringComparison.Ordinal);

        // Every verb that reads a run says so too.
        string text = Path.Combine(directory, $"eval-{damage}.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("Once upon a time there was a little dog. ", 20)));
        var evaluated = CliRun.Of("evaluate", "--checkpoint", run, "--data", text);
        var exported = CliRun.Of("export", "--checkpoint", run, "--format", "safetensors", "--out", Path.Combine(directory, $"export-{damage}.safetensors"));
        foreach (var result in new[] { evaluated, exported })
        {
            Assert.True(result.ExitCode == ExitCodes.Success, result.Error);
            Assert.Contains($"warning: {latest} is unreadable (", result.Error, StringComparison.Ordinal);
        }
        Assert.Contains($"from {previous}", exported.Output, StringComparison.Ordinal);

        var resumed = CliRun.Of("train", "--resume", "--run-dir", run, "--steps", "12");
        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error + resumed.Output);
        Assert.Contains($"warning: {latest} is unreadable (", resumed.Error, StringComparison.Ordinal);
        Assert.Contains("resuming at step 6", resumed.Output, StringComparison.Ordinal);
        // The resumed run rewrote step 12, and exactly: the same text as before the damage.
        Assert.Equal(fromStep12, CliRun.Of(generate).Output);
    }

    [Fact]
    public void Resume_WithEveryCheckpointDamaged_FailsNamingThemAll()
    {
        string run = Path.Combine(directory, "ruined");
        Assert.Equal(ExitCodes.Success, CliRun.Of(Tiny(run)).ExitCode);
        Damage(CheckpointFile(run, 12), "truncated");
        Damage(CheckpointFile(run, 6), "bit flip");

        var resumed = CliRun.Of("train", "--resume", "--run-dir", run);

        resumed.AssertOneLineError("no readable checkpoint");
        Assert.Contains("step-00000012.ckpt is unreadable (the checkpoint is truncated", resumed.Error, StringComparison.Ordinal);
        Assert.Contains("step-00000006.ckpt is unreadable (the checkpoint is corrupt", resumed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_WithMissingValidationData_LeavesNoRunDirectory_AndTheFixedCommandSucceeds()
    {
        string run = Path.Combine(directory, "missing");
        string[] arguments = Tiny(run, "--val", Path.Combine(directory, "val-later.txt"));

        CliRun.Of(arguments).AssertOneLineError("val data not found");
        Assert.False(Directory.Exists(run));

        TinyTraining.Corpus(directory, "val-later.txt", 20, 2);
        var fixedRun = CliRun.Of(arguments);
        Assert.True(fixedRun.ExitCode == ExitCodes.Success, fixedRun.Error + fixedRun.Output);
    }

    [Fact]
    public void Train_WithContextLongerThanTheData_LeavesNoRunDirectory_AndTheFixedCommandSucceeds()
    {
        string run = Path.Combine(directory, "long-context");

        CliRun.Of(Tiny(run, "--context-length", "100000")).AssertOneLineError("context length 100000 needs at least 100001 tokens");
        Assert.False(Directory.Exists(run));

        var fixedRun = CliRun.Of(Tiny(run));
        Assert.True(fixedRun.ExitCode == ExitCodes.Success, fixedRun.Error + fixedRun.Output);
    }

    [Fact]
    public void Train_InAnExistingDirectory_FailingBeforeTraining_TakesBackOnlyWhatItWrote()
    {
        string run = Path.Combine(directory, "existing");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "notes.txt"), "mine");

        CliRun.Of(Tiny(run, "--context-length", "100000")).AssertOneLineError("needs at least");

        Assert.Equal([Path.Combine(run, "notes.txt")], Directory.GetFileSystemEntries(run));
    }

    /// <summary>A path through a file cannot be created, not even by root (the tests run as root in CI, where mode bits do not stop writes).</summary>
    [Fact]
    public void Train_WithAnUnwritableRunDirectory_CreatesNothing()
    {
        string[] arguments = Tiny(Path.Combine(directory, "a-file", "run"));
        File.WriteAllText(Path.Combine(directory, "a-file"), "not a directory");
        var before = Directory.GetFileSystemEntries(directory, "*", SearchOption.AllDirectories).Order().ToList();

        CliRun.Of(arguments).AssertOneLineError("cannot write the run directory");

        Assert.Equal(before, Directory.GetFileSystemEntries(directory, "*", SearchOption.AllDirectories).Order());
        Assert.Equal("not a directory", File.ReadAllText(Path.Combine(directory, "a-file")));
    }

    [Fact]
    public void Train_WithStepsBelowTheDefaultWarmup_ScalesTheWarmupToTheRun()
    {
        string run = Path.Combine(directory, "short");
        var arguments = Tiny(run, "--steps", "50", "--checkpoint-interval", "50", "--eval-interval", "50").ToList();
        arguments.RemoveRange(arguments.IndexOf("--warmup-iters"), 2);

        var result = CliRun.Of([.. arguments]);

        Assert.True(result.ExitCode == ExitCodes.Success, result.Error + result.Output);
        // A tenth of the 50 steps, recorded so that a resume keeps it.
        Assert.Equal(5, TrainingConfig.Load(Path.Combine(run, "config.json")).WarmupIters);
        // Warm-up is linear in t to αmax at t = 5 (log interval 3: the record of step 3 has the rate of t = 2).
        var step3 = Metrics(run).First(record => record.Step == 3 && record.TrainLoss is not null);
        Assert.Equal(1e-3 * 2 / 5, step3.LearningRate, 1e-12);
    }

    [Fact]
    public void Generate_WithABadOption_PrintsOnlyTheError()
    {
        string run = Path.Combine(directory, "gen");
        Assert.Equal(ExitCodes.Success, CliRun.Of(Tiny(run, "--steps", "3", "--checkpoint-interval", "3", "--eval-interval", "3")).ExitCode);

        foreach (var (flag, value, message) in new[] { ("--temperature", "-1", "temperature must be ≥ 0, got -1"), ("--top-p", "1.5", "top-p must be in (0, 1], got 1.5"), ("--max-tokens", "-2", "max tokens must be ≥ 0, got -2") })
        {
            var result = CliRun.Of("generate", "--checkpoint", run, "--prompt", "hi", flag, value);
            result.AssertOneLineError(message);
            Assert.Equal("", result.Output);
        }
    }
}
