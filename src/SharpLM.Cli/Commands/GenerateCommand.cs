using System.CommandLine;
using SharpLM.Cli.Training;
using SharpLM.Generation;
using SharpLM.Precision;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm generate`: continues a prompt with a trained model, streaming the text as it comes.</summary>
internal sealed class GenerateCommand : Command
{
    static readonly GenerationOptions Defaults = new();

    readonly Option<string> checkpoint = new("--checkpoint", "-c") { Description = "A checkpoint file, or a run directory (its latest checkpoint).", Required = true };
    readonly Option<string> tokenizer = new("--tokenizer") { Description = "Tokenizer directory [default: the run's tokenizer/]." };
    readonly Option<string> prompt = new("--prompt", "-p") { Description = "Text to continue.", DefaultValueFactory = _ => "" };
    readonly Option<int> maxTokens = new("--max-tokens", "-n") { Description = "Most tokens to generate.", DefaultValueFactory = _ => Defaults.MaxTokens };
    readonly Option<double> temperature = new("--temperature", "-t") { Description = "Softmax temperature; 0 means greedy.", DefaultValueFactory = _ => Defaults.Temperature };
    readonly Option<double> topP = new("--top-p") { Description = "Nucleus sampling mass in (0, 1].", DefaultValueFactory = _ => Defaults.TopP };
    readonly Option<long> seed = new("--seed") { Description = "Seed of the sampler.", DefaultValueFactory = _ => Defaults.Seed };
    readonly Option<string> device = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    readonly Option<string> precision = PrecisionOption.Create("fp32, bf16 (bf16 matmuls) or auto (bf16 where the device runs it fast)", Defaults.Precision);

    public GenerateCommand() : base("generate", "Generate text from a trained model; stops at <|endoftext|> or --max-tokens.")
    {
        Options.Add(checkpoint);
        Options.Add(tokenizer);
        Options.Add(prompt);
        Options.Add(maxTokens);
        Options.Add(temperature);
        Options.Add(topP);
        Options.Add(seed);
        Options.Add(device);
        Options.Add(precision);
        SetAction(Run);
    }

    int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var options = new GenerationOptions
        {
            MaxTokens = parse.GetValue(maxTokens),
            Temperature = parse.GetValue(temperature),
            TopP = parse.GetValue(topP),
            Seed = parse.GetValue(seed),
            Precision = PrecisionOption.Parse(parse.GetValue(precision)!),
        };
        // Before anything is printed: a bad option is one error line, not a prompt followed by one.
        options.Validate();
        using var trained = TrainedModel.Load(parse.GetRequiredValue(checkpoint), parse.GetValue(tokenizer), Devices.Parse(parse.GetValue(device)!));
        foreach (string skipped in trained.Skipped)
        {
            parse.InvocationConfiguration.Error.WriteLine($"warning: {skipped}");
        }
        string text = parse.GetValue(prompt)!;
        output.Write(text);
        output.Flush();
        var result = TextGenerator.Generate(trained.Model, trained.Tokenizer, text, options, piece =>
        {
            output.Write(piece);
            output.Flush();
        });
        output.WriteLine();
        parse.InvocationConfiguration.Error.WriteLine(
            $"[{result.TokenIds.Count} tokens, {(result.StoppedAtStopToken ? "stopped at <|endoftext|>" : "reached --max-tokens")}]");
        return ExitCodes.Success;
    }
}
