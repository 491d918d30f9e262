using System.CommandLine;
using System.Text.Json;
using SharpLM.Cli.Progress;
using SharpLM.Generation;
using SharpLM.Training;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm evaluate`: loss, perplexity and bits per byte of a trained model on a text or token file.</summary>
internal sealed class EvaluateCommand : Command
{
    static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    readonly Option<string> checkpoint = new("--checkpoint", "-c") { Description = "A checkpoint file, or a run directory (its latest checkpoint).", Required = true };
    readonly Option<string> tokenizer = new("--tokenizer") { Description = "Tokenizer directory [default: the run's tokenizer/]." };
    readonly Option<string> data = new("--data", "-d") { Description = "A token file (with its .json description) or a UTF-8 text file.", Required = true };
    readonly Option<int?> stride = new("--stride") { Description = "How far windows of the context length advance [default: the context length, non-overlapping]." };
    readonly Option<int> batchSize = new("--batch-size", "-b") { Description = "Windows per forward pass.", DefaultValueFactory = _ => 8 };
    readonly Option<string> device = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    readonly Option<bool> json = new("--json") { Description = "Print one JSON object instead of text." };

    public EvaluateCommand() : base("evaluate", "Evaluate a trained model on held-out data: loss, perplexity, bits per byte; every target is scored once.")
    {
        Options.Add(checkpoint);
        Options.Add(tokenizer);
        Options.Add(data);
        Options.Add(stride);
        Options.Add(batchSize);
        Options.Add(device);
        Options.Add(json);
        SetAction(Run);
    }

    int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var target = Devices.Parse(parse.GetValue(device)!);
        using var trained = TrainedModels.Load(parse.GetRequiredValue(checkpoint), parse.GetValue(tokenizer), target, parse.InvocationConfiguration.Error);
        string dataPath = parse.GetRequiredValue(data);
        bool asJson = parse.GetValue(json);
        // JSON output stays one object: progress goes to the error stream then.
        var progressOutput = asJson ? parse.InvocationConfiguration.Error : output;
        var report = ProgressDisplay.Run(progressOutput, board =>
        {
            var bar = board.Add("evaluating windows", 1);
            return HeldOutEvaluation.Run(trained, dataPath, parse.GetValue(stride), parse.GetValue(batchSize), target,
                new CallbackProgress<(long Done, long Total)>(progress => bar.Update(progress.Done, progress.Total)));
        });
        if (asJson)
        {
            output.WriteLine(JsonSerializer.Serialize(report, JsonOptions));
            return ExitCodes.Success;
        }
        string windowing = report.Stride == report.WindowLength
            ? "non-overlapping"
            : $"each target with at least {report.WindowLength - report.Stride} tokens of context";
        output.WriteLine($"data: {report.Data}: {report.Tokens:N0} targets scored in {report.Windows:N0} windows of {report.WindowLength} tokens, stride {report.Stride} ({windowing})");
        output.WriteLine($"loss {report.Loss:F4} nats/token, perplexity {report.Perplexity:F2}, {report.BitsPerByte:F4} bits per byte ({report.Bytes:N0} bytes)");
        return ExitCodes.Success;
    }
}
