using System.CommandLine;
using SharpLM.Export;
using SharpLM.Generation;

namespace SharpLM.Cli.Commands;

/// <summary>
/// `sharplm export`: writes a trained model in a format other programs read: GGUF for llama.cpp, a PyTorch state dict,
/// or safetensors (both under the CS336 keys).
/// </summary>
internal sealed class ExportCommand : Command
{
    readonly Option<string> checkpoint = new("--checkpoint", "-c") { Description = "A checkpoint file, or a run directory (its latest checkpoint).", Required = true };
    readonly Option<string> tokenizer = new("--tokenizer") { Description = "Tokenizer directory [default: the run's tokenizer/]." };
    readonly Option<string> format = new("--format", "-f") { Description = "gguf (llama.cpp, Ollama, LM Studio, LLamaSharp), pytorch (torch.load) or safetensors.", Required = true };
    readonly Option<string> outPath = new("--out", "-o") { Description = "File to write.", Required = true };
    readonly Option<string> dtype = new("--dtype") { Description = "Weight type: f32, f16 or bf16.", DefaultValueFactory = _ => "f32" };

    public ExportCommand() : base("export", "Export a trained model for other programs: GGUF for llama.cpp, PyTorch or safetensors state dicts.")
    {
        Options.Add(checkpoint);
        Options.Add(tokenizer);
        Options.Add(format);
        Options.Add(outPath);
        Options.Add(dtype);
        SetAction(Run);
    }

    int Run(ParseResult parse)
    {
        var weights = ExportDTypes.Parse(parse.GetValue(dtype)!);
        var kind = ModelExport.ParseFormat(parse.GetRequiredValue(format));
        string target = parse.GetRequiredValue(outPath);
        using var trained = TrainedModels.Load(parse.GetRequiredValue(checkpoint), parse.GetValue(tokenizer), TorchSharp.torch.CPU, parse.InvocationConfiguration.Error);
        ModelExport.Write(trained, kind, weights, target);
        parse.InvocationConfiguration.Output.WriteLine(
            $"wrote {target} ({new FileInfo(target).Length / 1e6:F2} MB, {kind.ToString().ToLowerInvariant()}, {weights.ToString().ToLowerInvariant()}, " +
            $"{trained.Model.ParameterCount:N0} parameters) from {trained.CheckpointPath}");
        return ExitCodes.Success;
    }
}
