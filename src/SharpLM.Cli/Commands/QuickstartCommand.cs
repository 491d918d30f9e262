using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharpLM.Data;
using SharpLM.Cli.Training;
using SharpLM.Generation;
using SharpLM.Precision;
using SharpLM.Training;

namespace SharpLM.Cli.Commands;

/// <summary>
/// `sharplm quickstart`: the whole pipeline on the built-in story corpus in a few minutes on a laptop CPU —
/// generate the corpus, train a tokenizer, train a small model, show its curves and samples.
/// </summary>
internal sealed class QuickstartCommand : Command
{
    /// <summary>The quickstart's model and schedule: small enough for a few minutes on 2 CPU cores.</summary>
    internal static TrainingConfig Config(string runDirectory) => new()
    {
        Train = Path.Combine(runDirectory, "corpus", "train.txt"),
        Val = Path.Combine(runDirectory, "corpus", "val.txt"),
        VocabSize = 1024,
        ContextLength = 128,
        DModel = 128,
        NumLayers = 4,
        NumHeads = 4,
        DFf = 384,
        BatchSize = 32,
        Steps = 400,
        WarmupIters = 40,
        MaxLearningRate = 3e-3,
        MinLearningRate = 3e-4,
        WeightDecay = 0.1,
        EvalInterval = 100,
        EvalBatches = 20,
        CheckpointInterval = 400,
        RunDirectory = runDirectory,
    };

    static readonly string[] Prompts = ["Once upon a time", "One day, a little", "Tom had a"];

    readonly Option<string> runDirectory = new("--run-dir") { Description = "Where to put the corpus, tokenizer, checkpoints and curves [default: runs/quickstart-<timestamp>]." };
    readonly Option<long> steps = new("--steps") { Description = "Training steps.", DefaultValueFactory = _ => Config("").Steps };
    readonly Option<int> stories = new("--stories") { Description = "Stories in the generated training corpus.", DefaultValueFactory = _ => 10_000 };
    readonly Option<string> device = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    readonly Option<string> precision = PrecisionOption.Create("fp32, bf16 or auto (bf16 where the device runs it fast)", PrecisionSetting.Auto);

    public QuickstartCommand() : base("quickstart", "Generate a story corpus, train a tokenizer and a small model, and print samples (a few minutes on a CPU).")
    {
        Options.Add(runDirectory);
        Options.Add(steps);
        Options.Add(stories);
        Options.Add(device);
        Options.Add(precision);
        SetAction((parse, cancellation) => Task.FromResult(Run(parse, cancellation)));
    }

    int Run(ParseResult parse, CancellationToken cancellation)
    {
        var output = parse.InvocationConfiguration.Output;
        var clock = Stopwatch.StartNew();
        string directory = parse.GetValue(runDirectory)
            ?? Path.Combine("runs", "quickstart-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        var config = Config(directory) with { Steps = parse.GetValue(steps), Device = parse.GetValue(device)!, Precision = PrecisionOption.Parse(parse.GetValue(precision)!) };
        int storyCount = parse.GetValue(stories);
        if (storyCount < 10)
        {
            throw new ArgumentException($"--stories must be at least 10, got {storyCount}.");
        }

        output.WriteLine($"1/4 writing the built-in story corpus ({storyCount:N0} training and {storyCount / 20:N0} validation stories) to {Path.GetDirectoryName(config.Train)}");
        StoryCorpus.Write(config.Train!, storyCount, seed: 1);
        StoryCorpus.Write(config.Val!, Math.Max(storyCount / 20, 5), seed: 2);

        output.WriteLine("2/4 training the tokenizer and the model");
        int status = TrainCommand.Execute(config, resuming: false, output, parse.InvocationConfiguration.Error, cancellation);
        if (status != ExitCodes.Success)
        {
            return status;
        }

        var run = new RunDirectory(directory);
        var records = MetricRecord.ReadAll(run.MetricsPath);
        double validationLoss = records.Last(r => r.ValLoss is not null).ValLoss!.Value;
        double firstLoss = records.First(r => r.TrainLoss is not null).TrainLoss!.Value;
        using var validation = TokenDataset.Open(Path.Combine(run.DataDirectory, "val.tokens"));
        double unigram = TokenStatistics.UnigramEntropy(validation);
        output.WriteLine("3/4 result");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    validation loss {validationLoss:F3} nats/token (perplexity {Math.Exp(validationLoss):F2}); first training loss {firstLoss:F3}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    unigram entropy of the corpus {unigram:F3} nats/token: a model that ignores context cannot beat it; this one is {unigram - validationLoss:F3} nats below"));

        output.WriteLine("4/4 samples (temperature 0.8, top-p 0.95)");
        using var trained = TrainedModel.Load(directory, null, Devices.Parse(config.Device));
        foreach (var (prompt, index) in Prompts.Select((p, i) => (p, i)))
        {
            var result = TextGenerator.Generate(trained.Model, trained.Tokenizer, prompt,
                new GenerationOptions { MaxTokens = 160, Temperature = 0.8, TopP = 0.95, Seed = index, Precision = config.Precision });
            output.WriteLine();
            output.WriteLine($"    {prompt}{result.Text}");
        }
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finished in {clock.Elapsed.TotalMinutes:F1} min; curves: {run.LossByStepPlotPath}"));
        output.WriteLine($"more samples: sharplm generate --checkpoint {directory} --prompt \"Once upon a time\"");
        return ExitCodes.Success;
    }
}
