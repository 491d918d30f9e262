using SharpLM.Numerics;
using SharpLM.Precision;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Decoder-only Transformer language model (handout §3.1, Figure 1): token embeddings → blocks → final RMSNorm → LM head.
/// State-dict keys are those of the CS336 reference model, so its weights load here unchanged; an architecture option
/// that removes a weight removes its key (no ln1/ln2 without block norms, no ln_final without the final norm, no
/// ffn.w3 with the SiLU FFN, no lm_head with tied embeddings).
/// </summary>
/// <remarks>
/// Throughout the model, submodules run through <c>call</c> (PyTorch's <c>module(x)</c>) rather than <c>forward</c>,
/// which in TorchSharp skips hooks, so forward hooks on any Linear, norm or block fire; the FLOP accounting tests
/// trace every matmul that way. The overloads taking token positions have no <c>call</c> and bypass hooks. A tied head
/// is a matmul with the embedding matrix, not a Linear, so no hook sees it.
/// </remarks>
public sealed class TransformerLM : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "token_embeddings")]
    readonly Embedding tokenEmbeddings;

    readonly ModuleList<TransformerBlock> layers;

    [ComponentName(Name = "ln_final")]
    readonly RmsNorm? finalNorm;

    // Null when tied: the head is the embedding matrix itself, one parameter under the key token_embeddings.weight.
    [ComponentName(Name = "lm_head")]
    readonly Linear? languageModelHead;

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

        tokenEmbeddings = new Embedding(config.VocabSize, config.DModel, device, dtype, generator,
            std: config.TieEmbeddings ? TiedEmbeddingStd(config.DModel) : 1);
        // One RoPE for all layers: its tables depend only on (theta, d_k, context length). NoPE has none.
        var rope = config.Position == PositionEncoding.Rope
            ? new Rope(config.RopeTheta, config.HeadSize, config.ContextLength, device, dtype)
            : null;
        layers = new ModuleList<TransformerBlock>();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            layers.Add(new TransformerBlock(
                config.DModel, config.NumHeads, config.DFf, rope, config.AttentionKernel, device, dtype, generator, config.Norm, config.Ffn));
        }
        if (config.FinalNorm)
        {
            finalNorm = new RmsNorm(config.DModel, device: device, dtype: dtype);
        }
        if (!config.TieEmbeddings)
        {
            languageModelHead = new Linear(config.DModel, config.VocabSize, device, dtype, generator);
        }
        RegisterComponents();
    }

    /// <summary>
    /// The init std of a tied embedding matrix: 1/√d_model, so that the logits of a unit-RMS final hidden state start
    /// with variance d·σ² = 1, as they would from a well-scaled head. The untied embedding's N(0, 1) would make them
    /// √d times larger (std 22 at d = 512), an initial loss far above ln V; the untied head's √(2/(d+V)) would leave
    /// the input embeddings near 0.01, tiny beside the blocks' outputs, which matters to the models without norms.
    /// </summary>
    public static double TiedEmbeddingStd(long dModel) => 1 / Math.Sqrt(dModel);

    public TransformerConfig Config { get; }

    public Embedding TokenEmbeddings => tokenEmbeddings;

    public IReadOnlyList<TransformerBlock> Layers => [.. layers];

    /// <summary>Null when <see cref="TransformerConfig.FinalNorm"/> is off.</summary>
    public RmsNorm? FinalNorm => finalNorm;

    /// <summary>Null when the head is tied to the token embeddings.</summary>
    public Linear? LanguageModelHead => languageModelHead;

    /// <summary>The number of trainable scalars, counted from the registered parameters.</summary>
    public long ParameterCount => parameters().Sum(parameter => parameter.numel());

    /// <summary>
    /// Parameters other than the token embeddings (a lookup costs no FLOPs); the handout's "about 17M non-embedding
    /// parameters" for TinyStories counts this way, with the LM head included. A tied head is the embedding matrix,
    /// so it is not counted.
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
        return Head(hidden).MoveToOuterDisposeScope(); // (..., seq, vocab)
    }

    /// <summary>The final norm (when on) and the LM head: (..., seq, d) → (..., seq, vocab).</summary>
    Tensor Head(Tensor hidden)
    {
        var normalised = finalNorm is null ? hidden : finalNorm.call(hidden); // (..., seq, d)
        if (languageModelHead is not null)
        {
            return languageModelHead.call(normalised);
        }
        // Tied: logits = h Eᵀ, the embedding matrix (vocab, d) used as the head's (out, in) weight.
        return Linear.Apply(normalised, tokenEmbeddings.Weight);
    }

    /// <summary>
    /// Maps (batch, seq) token ids to (batch, seq, vocab) logits, where row b continues the sequence whose earlier
    /// positions <paramref name="caches"/>[b] holds: its tokens sit at positions cache.Length, …, cache.Length+seq−1
    /// and their keys and values join the cache. With empty caches this is a prefill and equals <see cref="forward(Tensor)"/>.
    /// <paramref name="weights"/>, when given, are this model's fused <see cref="DecodingWeights"/>; the logits agree.
    /// </summary>
    /// <exception cref="ArgumentException">The caches do not match the rows, or a row would outgrow its cache.</exception>
    public Tensor forward(Tensor tokenIds, IReadOnlyList<KeyValueCache> caches, DecodingWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        ArgumentNullException.ThrowIfNull(caches);
        if (tokenIds.dim() != 2 || tokenIds.size(0) != caches.Count)
        {
            throw new ArgumentException(
                $"Cached decoding expects ({caches.Count}, seq) token ids, one row per cache, got shape [{string.Join(", ", tokenIds.shape)}].", nameof(tokenIds));
        }
        long sequenceLength = tokenIds.size(1);
        if (caches.FirstOrDefault(cache => cache.Length + sequenceLength > Config.ContextLength) is { } full)
        {
            throw new ArgumentException(
                $"{full.Length} cached positions plus {sequenceLength} new ones exceed the context length {Config.ContextLength}.", nameof(tokenIds));
        }
        if (weights?.Cpu is { } step && step.TryPrepare(caches, sequenceLength))
        {
            using var ids = tokenIds.to(ScalarType.Int64);
            using var flat = step.Logits(ids.data<long>().ToArray(), (int)sequenceLength, caches); // (batch·seq, vocab)
            return flat.view(caches.Count, sequenceLength, Config.VocabSize); // (batch, seq, vocab)
        }
        using var scope = NewDisposeScope();
        // The RoPE rotations of every row's positions, gathered once for all layers.
        var angles = layers[0].Attention.Rope is { } rope ? RowAngles(rope, caches, sequenceLength, tokenIds.device).ForHeads() : null; // (batch or 1, seq, 1, dHead)
        var hidden = tokenEmbeddings.call(tokenIds); // (batch, seq, d)
        var layerCaches = new LayerKeyValues[caches.Count];
        for (int layer = 0; layer < layers.Count; layer++)
        {
            for (int row = 0; row < layerCaches.Length; row++)
            {
                layerCaches[row] = caches[row][layer];
            }
            hidden = layers[layer].forward(hidden, angles, layerCaches, weights?[layer]); // (batch, seq, d)
        }
        return Head(hidden).MoveToOuterDisposeScope(); // (batch, seq, vocab)
    }

    /// <summary>
    /// Rows that all start at one position (one sequence, or several in step) share views of the tables, (seq, dHead);
    /// otherwise each row's are gathered, (batch, seq, dHead).
    /// </summary>
    static RotaryAngles RowAngles(Rope rope, IReadOnlyList<KeyValueCache> caches, long sequenceLength, Device device)
    {
        int start = caches[0].Length;
        if (caches.All(cache => cache.Length == start))
        {
            return rope.Angles(start, sequenceLength);
        }
        long[] positions = [.. caches.SelectMany(cache => Enumerable.Range(cache.Length, (int)sequenceLength).Select(position => (long)position))];
        return rope.Angles(tensor(positions, [caches.Count, sequenceLength], device: device)); // (batch, seq)
    }
}
