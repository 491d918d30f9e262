using SharpLM.Model;

namespace SharpLM.Accounting;

/// <summary>
/// Named model shapes the accounting questions ask about. The GPT-2 ones are GPT-2's sizes (transformer_accounting
/// (a) and (d)) built as our architecture (RoPE, SwiGLU, RMSNorm, untied head) with d_ff = 4·d_model, as
/// adamwAccounting assumes; the handout's XL has exactly that d_ff = 6400.
/// </summary>
public static class ModelPresets
{
    const int Gpt2VocabSize = 50_257;
    const int Gpt2ContextLength = 1_024;
    const double RopeTheta = 10_000;

    /// <summary>Name → shape, in increasing size of the GPT-2 family, then the handout's TinyStories model.</summary>
    public static IReadOnlyDictionary<string, TransformerConfig> All { get; } =
        new OrderedDictionary<string, TransformerConfig>(StringComparer.OrdinalIgnoreCase)
        {
            ["gpt2-small"] = Gpt2(dModel: 768, numLayers: 12, numHeads: 12),
            ["gpt2-medium"] = Gpt2(dModel: 1024, numLayers: 24, numHeads: 16),
            ["gpt2-large"] = Gpt2(dModel: 1280, numLayers: 36, numHeads: 20),
            ["gpt2-xl"] = Gpt2(dModel: 1600, numLayers: 48, numHeads: 25),
            ["tinystories"] = TransformerConfig.TinyStories,
        };

    /// <exception cref="ArgumentException">No preset has that name; the message lists those that do.</exception>
    public static TransformerConfig Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.TryGetValue(name, out var config)
            ? config
            : throw new ArgumentException($"Unknown preset '{name}'; expected one of {string.Join(", ", All.Keys)}.", nameof(name));
    }

    static TransformerConfig Gpt2(int dModel, int numLayers, int numHeads) => new(
        Gpt2VocabSize, Gpt2ContextLength, dModel, numLayers, numHeads, DFf: 4 * dModel, RopeTheta);
}
