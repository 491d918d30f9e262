using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using SharpLM.Cli.Training;
using SharpLM.Generation;
using SharpLM.Precision;
using SharpLM.Serving;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm serve`: an OpenAI-compatible completions server for a trained model, until Ctrl+C.</summary>
internal sealed class ServeCommand : Command
{
    /// <summary>Read when --api-key is not given, so the key stays out of the process list.</summary>
    public const string ApiKeyVariable = "SHARPLM_API_KEY";

    static readonly ServerOptions Defaults = new();

    readonly Option<string> checkpoint = new("--checkpoint", "-c") { Description = "A checkpoint file, or a run directory (its latest checkpoint).", Required = true };
    readonly Option<string> tokenizer = new("--tokenizer") { Description = "Tokenizer directory [default: the run's tokenizer/]." };
    readonly Option<string> host = new("--host") { Description = "Address to listen on; 0.0.0.0 serves other machines.", DefaultValueFactory = _ => Defaults.Host };
    readonly Option<int> port = new("--port") { Description = "TCP port; 0 picks a free one.", DefaultValueFactory = _ => Defaults.Port };
    readonly Option<int> maxBatch = new("--max-batch") { Description = "Most completions decoded together in one step.", DefaultValueFactory = _ => Defaults.MaxBatch };
    readonly Option<string> apiKey = new("--api-key") { Description = $"Require 'Authorization: Bearer <key>' [default: ${ApiKeyVariable}, else no key]." };
    readonly Option<string> modelName = new("--model-name") { Description = "The model id clients send [default: the run directory's name]." };
    readonly Option<int> maxPromptTokens = new("--max-prompt-tokens") { Description = "Longest prompt accepted, in tokens [default: the context length]." };
    readonly Option<string> device = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    readonly Option<string> precision = PrecisionOption.Create("fp32, bf16 (bf16 matmuls) or auto (bf16 where the device runs it fast)", PrecisionSetting.Fp32);

    public ServeCommand() : base("serve", "Serve a trained model over HTTP with OpenAI's completions API (POST /v1/completions, GET /v1/models, GET /health).")
    {
        Options.Add(checkpoint);
        Options.Add(tokenizer);
        Options.Add(host);
        Options.Add(port);
        Options.Add(maxBatch);
        Options.Add(apiKey);
        Options.Add(modelName);
        Options.Add(maxPromptTokens);
        Options.Add(device);
        Options.Add(precision);
        maxBatch.Validators.Add(OptionValidators.AtLeastOne);
        maxPromptTokens.Validators.Add(OptionValidators.AtLeastOne);
        port.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                result.AddError("--port must be in 0 … 65535.");
            }
        });
        SetAction(Run);
    }

    async Task<int> Run(ParseResult parse, CancellationToken cancellation)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        string run = parse.GetRequiredValue(checkpoint);
        var target = Devices.Parse(parse.GetValue(device)!);
        using var trained = TrainedModels.Load(run, parse.GetValue(tokenizer), target, error);
        var options = new ServerOptions
        {
            Host = parse.GetValue(host)!,
            Port = parse.GetValue(port),
            MaxBatch = parse.GetValue(maxBatch),
            ApiKey = parse.GetValue(apiKey) ?? (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null),
            ModelName = parse.GetValue(modelName) ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(run))),
            MaxPromptTokens = parse.GetValue(maxPromptTokens) is > 0 and var limit ? limit : null,
            Precision = PrecisionChoice.Resolve(PrecisionOption.Parse(parse.GetValue(precision)!), target).Precision,
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        // Service managers (systemd, docker stop) ask with SIGTERM what Ctrl+C asks with SIGINT: drain, then exit.
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            signal.Cancel = true;
            stop.Cancel();
        });
        await using var server = await OpenAiServer.StartAsync(trained, options);
        output.WriteLine($"serving {options.ModelName} on {server.Address} ({(options.ApiKey is null ? "no API key" : "API key required")}); Ctrl+C stops");
        output.Flush();
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the normal way to stop a server.
        }
        error.WriteLine("stopping: finishing the requests in flight (Ctrl+C again ends at once)");
        await server.StopAsync();
        error.WriteLine("stopped");
        return ExitCodes.Success;
    }
}
