using System.CommandLine;
using System.CommandLine.Parsing;
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
    readonly Option<int> numSamples = new("--num-samples") { Description = "Samples of the prompt; sample i draws with seed --seed + i.", DefaultValueFactory = _ => 1 };
    readonly Option<int> batchSize = new("--batch-size") { Description = "Samples decoded at once [default: all]; the texts do not depend on it." };
    readonly Option<bool> ignoreEos = new("--ignore-eos") { Description = "Keep generating past <|endoftext|> (for benchmarks)." };
    readonly Option<bool> stats = new("--stats") { Description = "Print prefill and decode tokens/s to stderr." };

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
        Options.Add(numSamples);
        Options.Add(batchSize);
        Options.Add(ignoreEos);
        Options.Add(stats);
        numSamples.Validators.Add(OptionValidators.AtLeastOne);
        batchSize.Validators.Add(OptionValidators.AtLeastOne);
        SetAction(Run);
    }

    int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var options = new GenerationOptions
        {
            MaxTokens = parse.GetValue(maxTokens),
            Temperature = parse.GetValue(temperature),
            TopP = parse.GetValue(topP),
            Seed = parse.GetValue(seed),
            Precision = PrecisionOption.Parse(parse.GetValue(precision)!),
            IgnoreEos = parse.GetValue(ignoreEos),
        };
        // Before anything is printed: a bad option is one error line, not a prompt followed by one.
        options.Validate();
        using var trained = TrainedModels.Load(parse.GetRequiredValue(checkpoint), parse.GetValue(tokenizer), Devices.Parse(parse.GetValue(device)!), error);
        string text = parse.GetValue(prompt)!;
        int samples = parse.GetValue(numSamples);
        // One sample streams as it comes; several would interleave, so they are printed whole, one after another.
        if (samples == 1)
        {
            output.Write(text);
            output.Flush();
        }
        var run = TextGenerator.GenerateSamples(trained.Model, trained.Tokenizer, text, options, samples, parse.GetValue(batchSize) is > 0 and var size ? size : samples,
            samples == 1 ? (_, piece) => { output.Write(piece); output.Flush(); }
        : null);
        for (int i = 0; i < samples; i++)
        {
            var result = run.Samples[i];
            if (samples > 1)
            {
                output.WriteLine($"--- sample {i} ---");
                output.Write(text + result.Text);
            }
            output.WriteLine();
            error.WriteLine($"[{(samples > 1 ? $"sample {i}: " : "")}{result.TokenIds.Count} tokens, {(result.StoppedAtStopToken ? "stopped at <|endoftext|>" : "reached --max-tokens")}]");
        }
        if (parse.GetValue(stats))
        {
            var s = run.Stats;
            error.WriteLine($"prefill: {Throughput(s.PromptTokens, s.PrefillTime, s.PrefillTokensPerSecond)}; decode: {Throughput(s.DecodedTokens, s.DecodeTime, s.DecodeTokensPerSecond)}");
        }
        return ExitCodes.Success;
    }

    /// <summary>"N tokens in T ms, R tokens/s", without a rate for no tokens (0 / 0 s is not a speed).</summary>
    static string Throughput(int tokens, TimeSpan time, double tokensPerSecond) => tokens == 0
        ? "0 tokens"
        : FormattableString.Invariant($"{tokens} tokens in {time.TotalMilliseconds:F1} ms, {tokensPerSecond:F1} tokens/s");
}
