using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Decoder-only Transformer language model (handout §3.1, Figure 1): token embeddings → pre-norm blocks → final
/// RMSNorm → LM head. State-dict keys are those of the CS336 reference model, so its weights load here unchanged.
/// </summary>
/// <remarks>
/// Throughout the model, submodules run through <c>call</c> (PyTorch's <c>module(x)</c>) rather than <c>forward</c>,
/// which in TorchSharp skips hooks, so forward hooks on any Linear, norm or block fire; the FLOP accounting tests
/// trace every matmul that way. The overloads taking token positions have no <c>call</c> and bypass hooks.
/// </remarks>
public sealed class TransformerLM : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "token_embeddings")]
    readonly Embedding tokenEmbeddings;

    readonly ModuleList<TransformerBlock> layers;

    [ComponentName(Name = "ln_final")]
    readonly RmsNorm finalNorm;

    [ComponentName(Name = "lm_head")]
    readonly Linear languageModelHead;

    /// <param name="config">The architecture; validated here.</param>
    /// <param name="device">Where parameters and RoPE tables are created; null for torch's default device.</param>
    /// <param name="dtype">Parameter dtype; null for torch's default dtype.</param>
    /// <param name="generator">Random source for initialisation; null for torch's global generator (torch.manual_seed).</param>
    public TransformerLM(TransformerConfig config, Device? device = null, ScalarType? dtype = null, Generator? generator = null)
        : base(nameof(TransformerLM))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;

        tokenEmbeddings = new Embedding(config.VocabSize, config.DModel, device, dtype, generator);
        // One RoPE for all layers: its tables depend only on (theta, d_k, context length).
        var rope = new Rope(config.RopeTheta, config.HeadSize, config.ContextLength, device, dtype);
        layers = new ModuleList<TransformerBlock>();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            layers.Add(new TransformerBlock(
                config.DModel, config.NumHeads, config.DFf, rope, config.AttentionKernel, device, dtype, generator));
        }
        finalNorm = new RmsNorm(config.DModel, device: device, dtype: dtype);
        languageModelHead = new Linear(config.DModel, config.VocabSize, device, dtype, generator);
        RegisterComponents();
    }

    public TransformerConfig Config { get; }

    public Embedding TokenEmbeddings => tokenEmbeddings;

    public IReadOnlyList<TransformerBlock> Layers => [.. layers];

    public RmsNorm FinalNorm => finalNorm;

    public Linear LanguageModelHead => languageModelHead;

    /// <summary>The number of trainable scalars, counted from the registered parameters.</summary>
    public long ParameterCount => parameters().Sum(parameter => parameter.numel());

    /// <summary>
    /// Parameters other than the token embeddings (a lookup costs no FLOPs); the handout's "about 17M non-embedding
    /// parameters" for TinyStories counts this way, with the LM head included.
    /// </summary>
    public long NonEmbeddingParameterCount => ParameterCount - tokenEmbeddings.Weight.numel();

    /// <summary>
    /// Maps (..., seq) token ids, seq ≤ context length, to (..., seq, vocab) unnormalised next-token logits.
    /// </summary>
    /// <exception cref="ArgumentException">The sequence is longer than the context or an id is outside the vocabulary.</exception>
    public override Tensor forward(Tensor tokenIds)
    {
        if (tokenIds.dim() < 1)
        {
            throw new ArgumentException("Token ids need a sequence dimension, got a scalar.", nameof(tokenIds));
        }
        long sequenceLength = tokenIds.shape[^1];
        if (sequenceLength > Config.ContextLength)
        {
            throw new ArgumentException(
                $"Sequence length {sequenceLength} exceeds the context length {Config.ContextLength}.", nameof(tokenIds));
        }
        using var scope = NewDisposeScope();
        var hidden = tokenEmbeddings.call(tokenIds); // (..., seq, d)
        foreach (var layer in layers)
        {
            hidden = layer.call(hidden); // (..., seq, d)
        }
        var logits = languageModelHead.call(finalNorm.call(hidden)); // (..., seq, vocab)
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Maps (batch, seq) token ids to (batch, seq, vocab) logits, where row b continues the sequence whose earlier
    /// positions <paramref name="caches"/>[b] holds: its tokens sit at positions cache.Length, …, cache.Length+seq−1
    /// and their keys and values join the cache. With empty caches this is a prefill and equals <see cref="forward(Tensor)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The caches do not match the rows, or a row would outgrow its cache.</exception>
    public Tensor forward(Tensor tokenIds, IReadOnlyList<KeyValueCache> caches)
    {
        ArgumentNullException.ThrowIfNull(caches);
        if (tokenIds.dim() != 2 || tokenIds.shape[0] != caches.Count)
        {
            throw new ArgumentException(
                $"Cached decoding expects ({caches.Count}, seq) token ids, one row per cache, got shape [{string.Join(", ", tokenIds.shape)}].", nameof(tokenIds));
        }
        long sequenceLength = tokenIds.shape[1];
        if (caches.FirstOrDefault(cache => cache.Length + sequenceLength > Config.ContextLength) is { } full)
        {
            throw new ArgumentException(
                $"{full.Length} cached positions plus {sequenceLength} new ones exceed the context length {Config.ContextLength}.", nameof(tokenIds));
        }
        using var scope = NewDisposeScope();
        var starts = tensor(caches.Select(cache => (long)cache.Length).ToArray(), device: tokenIds.device).unsqueeze(1); // (batch, 1)
        var positions = starts + arange(sequenceLength, ScalarType.Int64, tokenIds.device); // (batch, seq)
        var hidden = tokenEmbeddings.call(tokenIds); // (batch, seq, d)
        for (int layer = 0; layer < layers.Count; layer++)
        {
            hidden = layers[layer].forward(hidden, positions, [.. caches.Select(cache => cache[layer])]); // (batch, seq, d)
        }
        var logits = languageModelHead.call(finalNorm.call(hidden)); // (batch, seq, vocab)
        return logits.MoveToOuterDisposeScope();
    }
}
