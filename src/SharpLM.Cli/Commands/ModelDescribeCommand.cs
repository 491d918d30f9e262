using System.CommandLine;
using System.Globalization;
using SharpLM.Model;

namespace SharpLM.Cli.Commands;

/// <summary>`sharplm model describe`: the resolved architecture and the parameter count of the model it builds.</summary>
internal sealed class ModelDescribeCommand : Command
{
    readonly Option<FileInfo?> config = new("--config")
    {
        Description = "Architecture as JSON (vocab_size, context_length, d_model, num_layers, num_heads, d_ff, rope_theta; optional: attention_kernel, " +
            "norm pre|post|none, final_norm, position rope|nope, ffn swiglu|silu, tie_embeddings). Default: the handout's TinyStories model.",
    };

    public ModelDescribeCommand() : base("describe", "Print a model architecture as JSON and count the parameters of the model it builds.")
    {
        Options.Add(config);
        SetAction(Run);
    }

    int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var file = parse.GetValue(config);
        var architecture = file is null ? TransformerConfig.TinyStories : TransformerConfig.FromJson(File.ReadAllText(file.FullName));
        // The meta device has shapes but no storage: GPT-2 XL's 2 billion parameters are counted without 8 GB.
        using var model = new TransformerLM(architecture, new TorchSharp.torch.Device(TorchSharp.DeviceType.META));
        var invariant = CultureInfo.InvariantCulture;

        output.WriteLine(architecture.ToJson());
        output.WriteLine($"architecture: {architecture.DescribeOptions()}");
        output.WriteLine($"parameters: {model.ParameterCount.ToString("N0", invariant)}");
        output.WriteLine($"non-embedding parameters: {model.NonEmbeddingParameterCount.ToString("N0", invariant)}");
        return ExitCodes.Success;
    }
}
