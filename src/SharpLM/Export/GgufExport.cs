using SharpLM.Model;
using SharpLM.Tokenization;
using static TorchSharp.torch;

namespace SharpLM.Export;

/// <summary>
/// Writes a <see cref="TransformerLM"/> and its tokenizer as a GGUF file of llama.cpp's "llama" architecture, which
/// is CS336's: pre-norm RMSNorm, SwiGLU, RoPE on adjacent pairs (so q and k need no permutation), no biases. A tied
/// head is written as llama.cpp expects it: no output.weight, and llama.cpp reads the head from token_embd.weight.
/// The other architecture options (post-norm, no norms, NoPE, the SiLU FFN) have no llama equivalent and are refused.
/// </summary>
public static class GgufExport
{
    /// <summary>
    /// llama.cpp's pre-tokenizer: "trillion" splits with GPT-2's regex, as SharpLM does, and unlike "gpt-2" does not
    /// clean up spaces before punctuation when detokenizing, so text round-trips. No key or "default" splits otherwise.
    /// </summary>
    public const string PreTokenizer = "trillion";

    /// <summary>Writes the GGUF file atomically; 1-D tensors (the RMSNorm gains) stay float32, as llama.cpp's converter keeps them.</summary>
    public static void Write(TransformerLM model, Tokenizer tokenizer, string name, ExportDType dtype, string path, string preTokenizer = PreTokenizer)
    {
        var gguf = Build(model, tokenizer, name, dtype, preTokenizer);
        IO.AtomicFile.Write(path, gguf.Write);
    }

    static GgufWriter Build(TransformerLM model, Tokenizer tokenizer, string name, ExportDType dtype, string preTokenizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var config = model.Config;
        RequireLlamaArchitecture(config);
        if (tokenizer.VocabularySize != config.VocabSize)
        {
            throw new InvalidDataException($"the tokenizer has {tokenizer.VocabularySize} tokens but the model's vocab_size is {config.VocabSize}.");
        }
        var vocabulary = GgufVocabulary.From(tokenizer);
        var gguf = new GgufWriter();
        gguf.Add("general.architecture", "llama");
        gguf.Add("general.name", name);
        gguf.Add("general.file_type", dtype switch { ExportDType.F32 => 0u, ExportDType.F16 => 1u, _ => 32u }); // llama_ftype: ALL_F32, MOSTLY_F16, MOSTLY_BF16
        gguf.Add("llama.vocab_size", (uint)config.VocabSize);
        gguf.Add("llama.context_length", (uint)config.ContextLength);
        gguf.Add("llama.embedding_length", (uint)config.DModel);
        gguf.Add("llama.block_count", (uint)config.NumLayers);
        gguf.Add("llama.feed_forward_length", (uint)config.DFf);
        gguf.Add("llama.attention.head_count", (uint)config.NumHeads);
        gguf.Add("llama.attention.head_count_kv", (uint)config.NumHeads);
        gguf.Add("llama.rope.dimension_count", (uint)config.HeadSize);
        gguf.Add("llama.rope.freq_base", (float)config.RopeTheta);
        gguf.Add("llama.attention.layer_norm_rms_epsilon", (float)model.FinalNorm!.Eps);

        gguf.Add("tokenizer.ggml.model", "gpt2");
        gguf.Add("tokenizer.ggml.pre", preTokenizer);
        gguf.Add("tokenizer.ggml.tokens", vocabulary.Tokens);
        gguf.Add("tokenizer.ggml.token_type", vocabulary.TokenTypes);
        gguf.Add("tokenizer.ggml.merges", vocabulary.Merges);
        gguf.Add("tokenizer.ggml.bos_token_id", (uint)vocabulary.EndOfTextId);
        gguf.Add("tokenizer.ggml.eos_token_id", (uint)vocabulary.EndOfTextId);
        gguf.Add("tokenizer.ggml.add_bos_token", false);
        gguf.Add("tokenizer.ggml.add_eos_token", false);

        foreach (var (key, parameter) in model.state_dict())
        {
            gguf.Add(Tensor(LlamaTensorNames.Of(key), parameter, parameter.dim() == 1 ? ExportDType.F32 : dtype));
        }
        return gguf;
    }

    /// <exception cref="NotSupportedException">An option llama.cpp's llama graph cannot run, named.</exception>
    public static void RequireLlamaArchitecture(TransformerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string? option = config.Norm != NormPlacement.Pre ? $"norm {OptionNames.Of(config.Norm)}"
            : !config.FinalNorm ? "final_norm false"
            : config.Position != PositionEncoding.Rope ? $"position {OptionNames.Of(config.Position)}"
            : config.Ffn != FeedForwardKind.Swiglu ? $"ffn {OptionNames.Of(config.Ffn)}"
            : null;
        if (option is not null)
        {
            throw new NotSupportedException(
                $"GGUF cannot hold a model with {option}: llama.cpp's llama architecture is pre-norm with a final norm, RoPE and SwiGLU; export it as safetensors or pytorch.");
        }
    }

    static GgufTensor Tensor(string name, Tensor parameter, ExportDType dtype)
    {
        long[] dimensions = [.. parameter.shape.Reverse()]; // ggml lists the innermost dimension first
        var type = dtype switch { ExportDType.F32 => GgmlType.F32, ExportDType.F16 => GgmlType.F16, _ => GgmlType.BF16 };
        return new GgufTensor(name, dimensions, type, stream =>
        {
            using var scope = NewDisposeScope();
            var converted = parameter.detach().to(dtype.ScalarType()).cpu().contiguous();
            stream.Write(converted.bytes);
        });
    }
}
