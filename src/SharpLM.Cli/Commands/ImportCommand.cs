using System.CommandLine;
using SharpLM.Export;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm import`: makes a run directory from a state dict trained elsewhere under the CS336 keys.</summary>
internal sealed class ImportCommand : Command
{
    readonly Option<string> stateDict = new("--state-dict", "-s") { Description = "Weights under the CS336 keys: a torch.save file (.pt) or .safetensors.", Required = true };
    readonly Option<string> modelConfig = new("--model-config", "-m") { Description = "The architecture as JSON (vocab_size, context_length, d_model, num_layers, num_heads, d_ff, rope_theta) [default: a SharpLM .safetensors file's own]." };
    readonly Option<string> tokenizer = new("--tokenizer", "-t") { Description = "Tokenizer directory (vocab.json, merges.txt, special_tokens.json).", Required = true };
    readonly Option<string> outPath = new("--out", "-o") { Description = "Run directory to create (checkpoints/step-00000000.ckpt, tokenizer/).", Required = true };

    public ImportCommand() : base("import", "Make a SharpLM run from a PyTorch or safetensors state dict with CS336's key names.")
    {
        Options.Add(stateDict);
        Options.Add(modelConfig);
        Options.Add(tokenizer);
        Options.Add(outPath);
        SetAction(Run);
    }

    int Run(ParseResult parse)
    {
        string checkpoint = StateDictImport.ToRun(parse.GetRequiredValue(stateDict), parse.GetValue(modelConfig), parse.GetRequiredValue(tokenizer), parse.GetRequiredValue(outPath));
        parse.InvocationConfiguration.Output.WriteLine($"wrote {checkpoint}; try: sharplm evaluate --checkpoint {parse.GetRequiredValue(outPath)} --data FILE");
        return ExitCodes.Success;
    }
}
