using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Bench;

/// <summary>
/// Stand-ins for the parameters of the handout's TinyStories model (vocab 10000, d_model 512, 4 layers,
/// d_ff 1344): the same shapes, 22,696,448 float32 values in 39 tensors, with random values and gradients.
/// </summary>
public static class TinyStoriesParameters
{
    const int VocabularySize = 10_000, ModelDimension = 512, LayerCount = 4, FeedForwardDimension = 1344;

    public static IReadOnlyList<(string Name, long[] Shape)> Shapes { get; } = BuildShapes();

    /// <summary>Fresh parameters with gradients; the same seed gives the same values, so copies can race.</summary>
    public static List<Parameter> Create(ulong seed, Device device)
    {
        using var generator = new Generator(seed, device);
        using var scale = 0.02.ToScalar(); // held: see SharpLM.Numerics.Scalars
        var parameters = new List<Parameter>();
        foreach (var (_, shape) in Shapes)
        {
            var parameter = new Parameter(randn(shape, generator: generator, device: device).mul_(scale));
            using var gradient = randn(shape, generator: generator, device: device);
            parameter.grad = gradient;
            parameters.Add(parameter);
        }
        return parameters;
    }

    static List<(string, long[])> BuildShapes()
    {
        var shapes = new List<(string, long[])> { ("token_embeddings", [VocabularySize, ModelDimension]) };
        for (int layer = 0; layer < LayerCount; layer++)
        {
            shapes.Add(($"layers.{layer}.ln1", [ModelDimension]));
            foreach (string projection in new[] { "q", "k", "v", "output" })
            {
                shapes.Add(($"layers.{layer}.attn.{projection}_proj", [ModelDimension, ModelDimension]));
            }
            shapes.Add(($"layers.{layer}.ln2", [ModelDimension]));
            shapes.Add(($"layers.{layer}.ffn.w1", [FeedForwardDimension, ModelDimension]));
            shapes.Add(($"layers.{layer}.ffn.w2", [ModelDimension, FeedForwardDimension]));
            shapes.Add(($"layers.{layer}.ffn.w3", [FeedForwardDimension, ModelDimension]));
        }
        shapes.Add(("ln_final", [ModelDimension]));
        shapes.Add(("lm_head", [VocabularySize, ModelDimension]));
        return shapes;
    }
}
