using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SharpLM.Numerics;
using SharpLM.Precision;
using static SharpLM.Numerics.DecodeKernels;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// The cached forward pass of a float32 model on the CPU (prompts, slid windows and one-token steps) as C# SIMD loops
/// over copies of its weights: the arithmetic of
/// <see cref="TransformerLM.forward(Tensor, IReadOnlyList{KeyValueCache}, DecodingWeights?)"/>'s libtorch path, which
/// stays the reference (tests hold the two together within 1e-5 at every step, for every architecture option).
/// </summary>
/// <remarks>
/// Why: a one-token step through libtorch makes about ninety calls per layer (projections, RoPE, the cache, the
/// attention kernel, norms, residuals), each a P/Invoke, a dispatch and a managed tensor, 1–2 µs apiece; at the
/// quickstart shape (d_model 128) that overhead was most of the step. Here a pass goes over each weight matrix once
/// per chunk of token rows, four weight rows against four token rows at a time (sixteen independent FMA chains), keys
/// and values go straight into the rows' <see cref="LayerKeyValues"/>, and attention runs over them in place.
/// Activations live in one buffer kept between calls, so an instance serves one thread at a time (a session's
/// decoding loop). Large products are split across libtorch's thread count (1 in the benchmarks, as llama.cpp
/// gets). The loops are compiled optimised at once (AggressiveOptimization): a tiered first compile ran them
/// several times slower for the first steps.
/// </remarks>
internal sealed unsafe class CpuDecodeStep : IDisposable
{
    readonly TransformerConfig config;
    readonly List<Tensor> owned = [];
    readonly float* embedding; // (vocab, d)
    readonly Layer[] layers;
    readonly float* finalNorm; // (d), null without
    readonly float* head; // (vocab, d)
    readonly float* cosines; // (context, dHead), null with NoPE
    readonly float* sines; // (context, dHead)
    readonly float eps;

    /// <summary>Multiply-adds below which a product stays on one thread: about 10 µs of work.</summary>
    const long MinimumParallelProducts = 1 << 17;

    int threads = 1;

    float[] workspace = [];

    /// <summary>Token rows per pass through the stack: enough to share each weight row, few enough to stay in L2.</summary>
    const int ChunkRows = 32;

    /// <summary>Workers for the large products; null for libtorch's thread count (tests set it to reach the split path).</summary>
    internal int? Threads { get; set; }

    CpuDecodeStep(TransformerLM model, DecodingWeights weights)
    {
        config = model.Config;
        embedding = Copy(model.TokenEmbeddings.Weight);
        layers = new Layer[config.NumLayers];
        for (int i = 0; i < layers.Length; i++)
        {
            var block = model.Layers[i];
            layers[i] = new Layer(
                block.AttentionNorm is { } attentionNorm ? Copy(attentionNorm.Weight) : null,
                (float*)RawMemory.Address(weights[i].Projection),
                Copy(block.Attention.OutputProjection.Weight),
                block.FeedForwardNorm is { } feedForwardNorm ? Copy(feedForwardNorm.Weight) : null,
                block.FeedForward switch
                {
                    SwiGlu => (float*)RawMemory.Address(weights[i].GateAndUp!),
                    SiluFeedForward silu => Copy(silu.W1.Weight),
                    _ => throw new InvalidOperationException($"no CPU decode step for {block.FeedForward.GetType().Name}."),
                },
                Copy(block.FeedForward is SwiGlu swiGlu ? swiGlu.W2.Weight : ((SiluFeedForward)block.FeedForward).W2.Weight));
        }
        finalNorm = model.FinalNorm is { } norm ? Copy(norm.Weight) : null;
        head = model.LanguageModelHead is { } languageModelHead ? Copy(languageModelHead.Weight) : embedding;
        if (model.Layers[0].Attention.Rope is { } rope)
        {
            var angles = rope.Angles(0, config.ContextLength);
            cosines = Copy(angles.Cosines);
            sines = Copy(angles.Sines);
            angles.Cosines.Dispose();
            angles.Sines.Dispose();
        }
        eps = (float)((model.FinalNorm ?? model.Layers[0].AttentionNorm)?.Eps ?? 0);
    }

    /// <summary>
    /// The step for <paramref name="model"/> with <paramref name="weights"/>, or null when it does not apply: another
    /// dtype or device, autocast on, no 256-bit SIMD, or norms with different epsilons.
    /// </summary>
    public static CpuDecodeStep? TryCreate(TransformerLM model, DecodingWeights weights)
    {
        var parameters = model.parameters().ToArray();
        bool norms = model.Layers.SelectMany(layer => new[] { layer.AttentionNorm, layer.FeedForwardNorm }).Append(model.FinalNorm)
            .OfType<RmsNorm>().Select(norm => norm.Eps).Distinct().Count() <= 1;
        bool fits = Vector256.IsHardwareAccelerated && Autocast.ComputeType is null && norms
            && parameters.All(parameter => RawMemory.IsContiguousCpu(parameter, ScalarType.Float32))
            && model.Layers[0].Attention.Rope?.CosTable.dtype is null or ScalarType.Float32;
        return fits ? new CpuDecodeStep(model, weights) : null;
    }

    /// <summary>
    /// Whether rows of <paramref name="sequenceLength"/> new tokens fit here: autocast is off and every cache has, or
    /// can be given, float32 CPU storage (an empty cache gets it here), with room for the positions.
    /// </summary>
    public bool TryPrepare(IReadOnlyList<KeyValueCache> caches, long sequenceLength) =>
        Autocast.ComputeType is null
        && caches.All(cache => cache.Length + sequenceLength <= cache.Capacity
            && Enumerable.Range(0, cache.LayerCount).All(layer => cache[layer].ReserveCpu(config.NumHeads, config.HeadSize)));

    /// <summary>
    /// (batch·seq, vocab) logits after each of the (batch, seq) row-major <paramref name="tokenIds"/>; row b's tokens
    /// join <paramref name="caches"/>[b]. Tokens go through the whole stack in chunks of <see cref="ChunkRows"/>, in
    /// order, so each attends to the keys of every earlier token of its row, cached or in the same chunk.
    /// </summary>
    /// <exception cref="ArgumentException">A token id lies outside the vocabulary.</exception>
    public Tensor Logits(ReadOnlySpan<long> tokenIds, int sequenceLength, IReadOnlyList<KeyValueCache> caches)
    {
        foreach (long id in tokenIds)
        {
            if (id < 0 || id >= config.VocabSize)
            {
                throw new ArgumentException($"Token id {id} is outside the vocabulary [0, {config.VocabSize}).", nameof(tokenIds));
            }
        }
        threads = Threads ?? get_num_threads();
        var logits = empty([tokenIds.Length, config.VocabSize], ScalarType.Float32); // (batch·seq, vocab)
        float* output = (float*)RawMemory.Address(logits);
        for (int first = 0; first < tokenIds.Length; first += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, tokenIds.Length - first);
            Chunk(tokenIds.Slice(first, rows), first, sequenceLength, caches, output + (long)first * config.VocabSize);
        }
        return logits;
    }

    /// <summary>
    /// The stack over <paramref name="tokenIds"/>, token rows <paramref name="first"/>, … of the (batch, seq) input,
    /// into their (rows, vocab) logits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Chunk(ReadOnlySpan<long> tokenIds, int first, int sequenceLength, IReadOnlyList<KeyValueCache> caches, float* logits)
    {
        int batch = tokenIds.Length;
        int d = (int)config.DModel;
        int heads = (int)config.NumHeads;
        int dHead = d / heads;
        int dFf = (int)config.DFf;
        int gateRows = config.Ffn == FeedForwardKind.Swiglu ? 2 * dFf : dFf;
        // One buffer for every activation, kept between calls: a chunk needs up to 400 KB, which as fresh arrays
        // would land on the large-object heap every step and bring a full collection every few steps.
        long need = (long)batch * (7 * d + gateRows + dFf) + config.ContextLength;
        if (workspace.Length < need)
        {
            workspace = new float[need];
        }
        fixed (float* buffer = workspace)
        {
            float* xs = buffer; // (rows, d): the residual stream
            float* normedRows = xs + batch * d; // (rows, d)
            float* qkv = normedRows + batch * d; // (rows, 3d): q, k, v
            float* attention = qkv + batch * 3 * d; // (rows, d)
            float* sublayerRows = attention + batch * d; // (rows, d)
            float* gateRowsOut = sublayerRows + batch * d; // (rows, 2·dFf) or (rows, dFf)
            float* activations = gateRowsOut + batch * gateRows; // (rows, dFf)
            float* scoreRow = activations + batch * dFf; // (context)
            for (int b = 0; b < batch; b++)
            {
                new ReadOnlySpan<float>(embedding + tokenIds[b] * d, d).CopyTo(new Span<float>(xs + b * d, d));
            }
            for (int layer = 0; layer < layers.Length; layer++)
            {
                var weights = layers[layer];
                // Attention sublayer: pre-norm normalises its input, post-norm its residual sum, none neither.
                float* attentionInput = config.Norm == NormPlacement.Pre ? Normalise(xs, weights.AttentionNorm, normedRows, batch, d) : xs;
                MatMul(attentionInput, weights.Projection, qkv, batch, 3 * d, d);
                for (int b = 0; b < batch; b++)
                {
                    // In row order: a token's key joins its cache before the next token of its sequence attends.
                    Attend(qkv + b * 3 * d, caches[(first + b) / sequenceLength][layer], attention + b * d, scoreRow, heads, dHead);
                }
                MatMul(attention, weights.Output, sublayerRows, batch, d, d);
                Add(xs, sublayerRows, batch * d);
                if (config.Norm == NormPlacement.Post)
                {
                    Normalise(xs, weights.AttentionNorm, xs, batch, d);
                }
                // Feed-forward sublayer.
                float* feedForwardInput = config.Norm == NormPlacement.Pre ? Normalise(xs, weights.FeedForwardNorm, normedRows, batch, d) : xs;
                MatMul(feedForwardInput, weights.GateAndUp, gateRowsOut, batch, gateRows, d);
                for (int b = 0; b < batch; b++)
                {
                    float* gate = gateRowsOut + b * gateRows;
                    Silu(gate, config.Ffn == FeedForwardKind.Swiglu ? gate + dFf : null, activations + b * dFf, dFf);
                }
                MatMul(activations, weights.Down, sublayerRows, batch, d, dFf);
                Add(xs, sublayerRows, batch * d);
                if (config.Norm == NormPlacement.Post)
                {
                    Normalise(xs, weights.FeedForwardNorm, xs, batch, d);
                }
            }
            float* final = finalNorm is null ? xs : Normalise(xs, finalNorm, normedRows, batch, d);
            MatMul(final, head, logits, batch, config.VocabSize, d);
        }
    }

    /// <summary>
    /// One row's attention (eqs. 11–13) of its (3d) q, k, v: RoPE on q and k at the cache's next position, k and v
    /// into the cache, then softmax(q·Kᵀ/√d_k)·V per head over every cached position, into (d) <paramref name="output"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Attend(float* qkv, LayerKeyValues cache, float* output, float* scores, int heads, int dHead)
    {
        int d = heads * dHead;
        int position = cache.Length;
        int capacity = cache.Capacity;
        float* keys = (float*)cache.KeyAddress; // (heads, capacity, dHead)
        float* values = (float*)cache.ValueAddress;
        if (cosines is not null)
        {
            Rotate(qkv, 2 * heads, dHead, cosines + position * dHead, sines + position * dHead);
        }
        float scale = 1 / MathF.Sqrt(dHead);
        for (int h = 0; h < heads; h++)
        {
            float* query = qkv + h * dHead;
            float* headKeys = keys + (long)h * capacity * dHead;
            float* headValues = values + (long)h * capacity * dHead;
            new ReadOnlySpan<float>(qkv + d + h * dHead, dHead).CopyTo(new Span<float>(headKeys + position * dHead, dHead));
            new ReadOnlySpan<float>(qkv + 2 * d + h * dHead, dHead).CopyTo(new Span<float>(headValues + position * dHead, dHead));
            int count = position + 1;
            // q·k for every cached key: the head's keys are the rows of a (count, dHead) matrix.
            if (h + 1 < heads)
            {
                // The next head's first rows, which no prefetch ahead within a head reaches: with this and the values
                // prefetched beside the keys, a 16-row step at the TinyStories shape took 0.26–0.94 ms less (6 of 6 A/B pairs).
                PrefetchLines(headKeys + (long)capacity * dHead, Math.Min(count, 2 * AheadRows) * dHead);
                PrefetchLines(headValues + (long)capacity * dHead, Math.Min(count, 2 * AheadRows) * dHead);
            }
            float max = Scores(query, headKeys, headValues, scores, count, dHead); // (count)
            float sum = Exponentiate(scores, count, max, scale);
            WeightedSum(scores, headValues, count, dHead, 1 / sum, output + h * dHead);
        }
        cache.Advance();
    }

    /// <summary>RMSNorm (eq. 4) of each (d) row of <paramref name="input"/> with gain <paramref name="gain"/>; returns <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    float* Normalise(float* input, float* gain, float* output, int rows, int d)
    {
        for (int r = 0; r < rows; r++)
        {
            float* x = input + r * d;
            float* y = output + r * d;
            float inverseRms = 1 / MathF.Sqrt(Dot(x, x, d) / d + eps);
            for (int i = 0; i < d; i++)
            {
                y[i] = x[i] * inverseRms * gain[i];
            }
        }
        return output;
    }

    /// <summary>
    /// y ← x Wᵀ, the output features split between libtorch's thread count of workers when the product is large enough
    /// to pay for the hand-off (a TinyStories-shape layer's are; the quickstart's run on the calling thread).
    /// </summary>
    void MatMul(float* x, float* weight, float* y, int rows, int outFeatures, int inFeatures)
    {
        int parts = (long)rows * outFeatures * inFeatures >= MinimumParallelProducts ? Math.Min(threads, outFeatures / 64) : 1;
        if (parts <= 1)
        {
            MatMulRange(x, weight, y, rows, outFeatures, inFeatures, 0, outFeatures);
            return;
        }
        // Slices of whole four-row groups; the last takes the remainder.
        int slice = (outFeatures / parts + 3) & ~3;
        nint input = (nint)x, matrix = (nint)weight, output = (nint)y;
        Parallel.For(0, parts, part => MatMulRange((float*)input, (float*)matrix, (float*)output, rows, outFeatures, inFeatures,
            part * slice, part == parts - 1 ? outFeatures : Math.Min(outFeatures, (part + 1) * slice)));
    }

    /// <summary>A contiguous float32 copy that this step owns, so the model's later changes cannot reach into a step.</summary>
    float* Copy(Tensor source)
    {
        var copy = source.detach().to(ScalarType.Float32).contiguous().clone().DetachFromDisposeScope();
        owned.Add(copy);
        return (float*)RawMemory.Address(copy);
    }

    public void Dispose()
    {
        foreach (var tensor in owned)
        {
            tensor.Dispose();
        }
        owned.Clear();
    }

    /// <summary>One block's weights: norm gains (null without norms), fused (3d, d) projections, W_O, the gate rows, W2.</summary>
    readonly struct Layer(float* attentionNorm, float* projection, float* output, float* feedForwardNorm, float* gateAndUp, float* down)
    {
        public readonly float* AttentionNorm = attentionNorm;
        public readonly float* Projection = projection;
        public readonly float* Output = output;
        public readonly float* FeedForwardNorm = feedForwardNorm;
        public readonly float* GateAndUp = gateAndUp;
        public readonly float* Down = down;
    }
}
