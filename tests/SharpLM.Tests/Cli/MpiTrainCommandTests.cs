using System.Diagnostics;
using System.Globalization;
using SharpLM.Cli;
using SharpLM.Distributed;
using SharpLM.Tests.Distributed;
using SharpLM.Training;

namespace SharpLM.Tests.Cli;

/// <summary>`mpirun -np 2 sharplm train` on the TinyStories sample, against a single process on the same global batch.</summary>
[Collection(MpiCollection.Name)]
public sealed class MpiTrainCommandTests : IDisposable
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "SharpLM.Cli");
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-mpi-train-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>A tiny run on 200 kB of the TinyStories sample (from <paramref name="trainOffset"/>); batch is per process.</summary>
    string[] Training(string run, int batch, int steps, int checkpointInterval, int trainOffset = 0, int evalInterval = 20)
    {
        string train = Path.Combine(directory, $"train-{trainOffset}.txt");
        string val = Path.Combine(directory, "val.txt");
        if (!File.Exists(train))
        {
            File.WriteAllBytes(train, File.ReadAllBytes(SharedData.Path("tinystories", "tinystories_v1_train_head_2MiB.txt"))[trainOffset..(trainOffset + 200_000)]);
        }
        if (!File.Exists(val))
        {
            File.WriteAllBytes(val, File.ReadAllBytes(SharedData.Path("tinystories", "tinystories_v1_valid_hf_head.txt"))[..40_000]);
        }
        return [
            "train", "--train", train, "--val", val, "--vocab-size", "300", "--context-length", "32", "--d-model", "32",
            "--num-layers", "1", "--num-heads", "2", "--d-ff", "64", "--batch-size", Text(batch), "--steps", Text(steps),
            "--warmup-iters", "4", "--max-lr", "1e-2", "--min-lr", "1e-3", "--eval-interval", Text(evalInterval), "--eval-batches", "8",
            "--checkpoint-interval", Text(checkpointInterval), "--log-interval", "5", "--precision", "fp32", "--run-dir", run];
    }

    static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    [MpiFact(MpiFlavor.OpenMpi, NeedsSharedData = true)]
    public void Train_UnderOpenMpi_LearnsLikeOneProcessOnTheSameGlobalBatchAndLogsEachStepOnce() =>
        AssertLearnsLikeOneProcess(MpiFlavor.OpenMpi, "Open MPI (libmpi.so.40)");

    [MpiFact(MpiFlavor.Mpich, NeedsSharedData = true)]
    public void Train_UnderMpich_LearnsLikeOneProcessOnTheSameGlobalBatchAndLogsEachStepOnce() =>
        AssertLearnsLikeOneProcess(MpiFlavor.Mpich, "MPICH (libmpich.so.12)");

    void AssertLearnsLikeOneProcess(MpiFlavor flavor, string library)
    {
        string run = Path.Combine(directory, "parallel");
        var parallel = MpiLauncher.Run(flavor, 2, directory, Cli, Training(run, batch: 4, steps: 40, checkpointInterval: 20))
            .AssertSuccess("mpirun -np 2 sharplm train");
        var single = CliRun.Of(Training(Path.Combine(directory, "single"), batch: 8, steps: 40, checkpointInterval: 20));
        Assert.True(single.ExitCode == ExitCodes.Success, single.Error + single.Output);

        Assert.Contains($"world: 2 ranks (2 per host), threads per rank: 1, {library}", parallel.Output, StringComparison.Ordinal);
        Assert.Single(parallel.Output.Split('\n'), line => line.StartsWith("done: step 40", StringComparison.Ordinal));
        Assert.DoesNotContain("\u001b", parallel.Output, StringComparison.Ordinal);
        var records = MetricRecord.ReadAll(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal([5, 10, 15, 20, 25, 30, 35, 40], records.Where(r => r.TrainLoss is not null).Select(r => r.Step));
        Assert.Equal([0, 20, 40], records.Where(r => r.ValLoss is not null).Select(r => r.Step));
        Assert.Equal(40 * 8 * 32, records[^1].TokensSeen);

        var singleRecords = MetricRecord.ReadAll(Path.Combine(directory, "single", "metrics.jsonl"));
        double first = records[0].ValLoss!.Value, last = records[^1].ValLoss!.Value, singleLast = singleRecords[^1].ValLoss!.Value;
        Assert.True(last < first - 1.0, $"validation loss went from {first} to {last} only");
        Assert.True(Math.Abs(last - singleLast) < 0.15, $"2 ranks × 4 ended at {last}, 1 process × 8 at {singleLast}");

        var metadata = Checkpoint.ReadMetadata(Path.Combine(run, "checkpoints", "step-00000040.ckpt"));
        Assert.Equal(2, metadata.Counters[Trainer.WorldSizeCounter]);
        Assert.NotEqual(metadata.RandomStates[Trainer.SamplerStateKey(0)], metadata.RandomStates[Trainer.SamplerStateKey(1)]);
    }

    [MpiFact(MpiFlavor.OpenMpi, NeedsSharedData = true)]
    public void Train_UnderOpenMpi_WhenARankIsKilled_EndsTheJobNonZeroAndResumesFromTheLastCheckpoint() => AssertKilledRankEndsTheJob(MpiFlavor.OpenMpi);

    [MpiFact(MpiFlavor.Mpich, NeedsSharedData = true)]
    public void Train_UnderMpich_WhenARankIsKilled_EndsTheJobNonZeroAndResumesFromTheLastCheckpoint() => AssertKilledRankEndsTheJob(MpiFlavor.Mpich);

    void AssertKilledRankEndsTheJob(MpiFlavor flavor)
    {
        string run = Path.Combine(directory, "killed");
        using var job = MpiLauncher.Start(flavor, 2, directory, Cli, Training(run, batch: 4, steps: 400, checkpointInterval: 10));
        string checkpoints = Path.Combine(run, "checkpoints");
        var clock = Stopwatch.StartNew();
        while (!(Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, "*.ckpt").Any()) && !job.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            Thread.Sleep(100);
        }
        Assert.False(job.HasExited, "the job ended before its first checkpoint");
        int[] ranks = Ranks(job.Id);
        Assert.Equal(2, ranks.Length);
        Process.GetProcessById(ranks[1]).Kill();
        Assert.True(job.WaitForExit(TimeSpan.FromMinutes(1)), "the job kept running after a rank was killed");
        Assert.NotEqual(0, job.ExitCode);

        string latest = new RunDirectory(run).LatestCheckpoint()!;
        long saved = Checkpoint.ReadMetadata(latest).Iteration;
        int target = (int)saved + 10;
        var resumed = MpiLauncher.Run(flavor, 2, directory, Cli, "train", "--resume", "--run-dir", run, "--steps", Text(target))
            .AssertSuccess("mpirun -np 2 sharplm train --resume");
        Assert.Contains($"resuming at step {saved}", resumed.Output, StringComparison.Ordinal);
        Assert.Contains($"done: step {target}", resumed.Output, StringComparison.Ordinal);
        var steps = MetricRecord.ReadAll(Path.Combine(run, "metrics.jsonl")).Where(r => r.TrainLoss is not null).Select(r => r.Step).ToList();
        Assert.Equal(Enumerable.Range(1, target / 5).Select(i => (long)i * 5), steps);

        var other = MpiLauncher.Run(flavor, 3, directory, Cli, "train", "--resume", "--run-dir", run, "--steps", Text(target + 5));
        Assert.NotEqual(0, other.ExitCode);
        Assert.Contains("was written by 2 process(es) and this job has 3", other.Output, StringComparison.Ordinal);
    }

    [MpiFact(MpiFlavor.OpenMpi, NeedsSharedData = true)]
    public void Train_UnderOpenMpi_ResumedWithTheSameRanks_IsBitIdenticalToAnUninterruptedRun() => AssertResumeIsBitIdentical(MpiFlavor.OpenMpi);

    [MpiFact(MpiFlavor.Mpich, NeedsSharedData = true)]
    public void Train_UnderMpich_ResumedWithTheSameRanks_IsBitIdenticalToAnUninterruptedRun() => AssertResumeIsBitIdentical(MpiFlavor.Mpich);

    void AssertResumeIsBitIdentical(MpiFlavor flavor)
    {
        string whole = Path.Combine(directory, "whole");
        string halves = Path.Combine(directory, "halves");
        string[] cycle = ["--cosine-cycle-iters", "12"];
        MpiLauncher.Run(flavor, 2, directory, Cli, [.. Training(whole, batch: 4, steps: 12, checkpointInterval: 6, evalInterval: 6), .. cycle])
            .AssertSuccess("mpirun -np 2 sharplm train --steps 12");
        MpiLauncher.Run(flavor, 2, directory, Cli, [.. Training(halves, batch: 4, steps: 6, checkpointInterval: 6, evalInterval: 6), .. cycle])
            .AssertSuccess("mpirun -np 2 sharplm train --steps 6");
        MpiLauncher.Run(flavor, 2, directory, Cli, "train", "--resume", "--run-dir", halves, "--steps", "12")
            .AssertSuccess("mpirun -np 2 sharplm train --resume --steps 12");

        // The first half also logs its last step, 6, which the whole run (log interval 5) does not.
        static string Losses(string run) => LossLines(run, r => !(r.Step == 6 && r.TrainLoss is not null));
        Assert.Equal(Losses(whole), Losses(halves));
        Assert.Contains("12 ", Losses(whole), StringComparison.Ordinal);
    }

    /// <summary>Step, losses and gradient norm of every record, to the last bit.</summary>
    static string LossLines(string run, Func<MetricRecord, bool> keep) => string.Join("\n", MetricRecord.ReadAll(Path.Combine(run, "metrics.jsonl"))
        .Where(keep)
        .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Step} {r.TrainLoss:R} {r.ValLoss:R} {r.GradientNorm:R}")));

    [SlurmFact(MpiFlavor.OpenMpi)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Train_UnderSrunWithPmix_RunsOnOpenMpiAsUnderMpirun() => AssertSrunEqualsLauncher(MpiFlavor.OpenMpi, "pmix", "Open MPI (libmpi.so.40)");

    [SlurmFact(MpiFlavor.Mpich)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Train_UnderSrunWithPmi2_RunsOnMpichAsUnderMpiexec() => AssertSrunEqualsLauncher(MpiFlavor.Mpich, "pmi2", "MPICH (libmpich.so.12)");

    /// <summary>Slurm starts the ranks itself (no mpirun): same world, same library, the same losses to the bit.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    void AssertSrunEqualsLauncher(MpiFlavor flavor, string plugin, string library)
    {
        string underSrun = Path.Combine(directory, "srun");
        string underLauncher = Path.Combine(directory, "launcher");
        using (var slurm = LocalSlurm.Start())
        {
            var srun = slurm.Srun(directory, ["--ntasks", "2", $"--mpi={plugin}", Cli, .. Training(underSrun, batch: 4, steps: 12, checkpointInterval: 6, evalInterval: 6)])
                .AssertSuccess($"srun --ntasks 2 --mpi={plugin} sharplm train");
            Assert.Contains($"world: 2 ranks (2 per host), threads per rank: 1, {library}", srun.Output, StringComparison.Ordinal);
            Assert.Single(srun.Output.Split('\n'), line => line.StartsWith("done: step 12", StringComparison.Ordinal));
        }
        MpiLauncher.Run(flavor, 2, directory, Cli, Training(underLauncher, batch: 4, steps: 12, checkpointInterval: 6, evalInterval: 6))
            .AssertSuccess("mpirun -np 2 sharplm train");
        Assert.Equal(LossLines(underLauncher, _ => true), LossLines(underSrun, _ => true));
        Assert.Equal(2, Checkpoint.ReadMetadata(Path.Combine(underSrun, "checkpoints", "step-00000012.ckpt")).Counters[Trainer.WorldSizeCounter]);
    }

    [MpiFact(MpiFlavor.OpenMpi, NeedsSharedData = true)]
    public void Train_UnderOpenMpi_WhenARankReadsOtherData_StopsAtStartNamingTheRankAndHost() => AssertOtherDataStopsTheJob(MpiFlavor.OpenMpi);

    [MpiFact(MpiFlavor.Mpich, NeedsSharedData = true)]
    public void Train_UnderMpich_WhenARankReadsOtherData_StopsAtStartNamingTheRankAndHost() => AssertOtherDataStopsTheJob(MpiFlavor.Mpich);

    void AssertOtherDataStopsTheJob(MpiFlavor flavor)
    {
        string run = Path.Combine(directory, "mismatch");
        var result = MpiLauncher.RunEach(flavor, directory,
            [Cli, .. Training(run, batch: 4, steps: 6, checkpointInterval: 6)],
            [Cli, .. Training(run, batch: 4, steps: 6, checkpointInterval: 6, trainOffset: 300_000)]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"rank 1 on host {Environment.MachineName} reads training data", result.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(run, "metrics.jsonl")), "the job trained before it checked the data");
    }

    [MpiFact(MpiFlavor.OpenMpi, NeedsSharedData = true)]
    public void Train_UnderOpenMpiWithATokenBudget_SchedulesOverTheRanksStepsAndRefusesALongerWarmUp()
    {
        // 7,680 tokens at 4 × 32 per rank and step: 60 steps for one process, 30 for two, whose default warm-up is 3.
        string run = Path.Combine(directory, "budget");
        string[] budget = [.. WithoutStepsAndWarmUp(Training(run, batch: 4, steps: 1, checkpointInterval: 30)), "--token-budget", "7680"];
        MpiLauncher.Run(MpiFlavor.OpenMpi, 2, directory, Cli, budget).AssertSuccess("mpirun -np 2 sharplm train --token-budget 7680");

        Assert.Equal(3, TrainingConfig.FromJson(File.ReadAllText(Path.Combine(run, "config.json"))).WarmupIters);
        var logged = MetricRecord.ReadAll(Path.Combine(run, "metrics.jsonl")).Where(r => r.TrainLoss is not null).ToList();
        Assert.Equal(30, logged[^1].Step);
        foreach (var record in logged)
        {
            // The step logged as s ran at iteration t = s − 1 of the schedule.
            Assert.Equal(LearningRateSchedule.CosineWithWarmup(record.Step - 1, 1e-2, 1e-3, 3, 30), record.LearningRate, 12);
        }

        // A warm-up that one process's 60 steps would allow but the ranks' 30 do not stops the job before it trains.
        string refused = Path.Combine(directory, "refused");
        var result = MpiLauncher.Run(MpiFlavor.OpenMpi, 2, directory, Cli,
            [.. WithoutStepsAndWarmUp(Training(refused, batch: 4, steps: 1, checkpointInterval: 30)), "--token-budget", "7680", "--warmup-iters", "40"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("warmup_iters (40) must not exceed cosine_cycle_iters (30: the steps of the token budget across 2 processes)", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(refused, "metrics.jsonl")), "the job trained before it checked the schedule");
    }

    /// <summary><paramref name="arguments"/> without their --steps and --warm-up-iters pairs.</summary>
    static string[] WithoutStepsAndWarmUp(string[] arguments) =>
        [.. arguments.Where((_, i) => arguments[i] is not ("--steps" or "--warmup-iters") && (i == 0 || arguments[i - 1] is not ("--steps" or "--warmup-iters")))];

    /// <summary>
    /// The ranks of the job <paramref name="launcher"/> started, in the order they started: the SharpLM processes
    /// below it (Open MPI's mpirun starts them itself, MPICH's mpiexec through a hydra_pmi_proxy).
    /// </summary>
    static int[] Ranks(int launcher)
    {
        var processes = Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => int.TryParse(name, out _))
            .Select(name => (Pid: int.Parse(name!, CultureInfo.InvariantCulture), Stat: TryRead($"/proc/{name}/stat")))
            .Where(p => p.Stat is not null)
            .ToDictionary(p => p.Pid, p => p.Stat!);
        bool Below(int pid) => processes.TryGetValue(pid, out var stat) && (ParentOf(stat) == launcher || Below(ParentOf(stat)));
        return [.. processes.Where(p => NameOf(p.Value) == Path.GetFileName(Cli) && Below(p.Key))
            .OrderBy(p => StartTime(p.Value))
            .Select(p => p.Key)];
    }

    static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    static string NameOf(string stat) => stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];

    // /proc/<pid>/stat: "pid (comm) state ppid ... starttime(22nd field)"; comm may hold spaces, so fields count after ')'.
    static string[] FieldsAfterName(string stat) => stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

    static int ParentOf(string stat) => int.Parse(FieldsAfterName(stat)[1], CultureInfo.InvariantCulture);

    static long StartTime(string stat) => long.Parse(FieldsAfterName(stat)[19], CultureInfo.InvariantCulture);
}
