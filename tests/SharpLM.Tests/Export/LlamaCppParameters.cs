using LLama.Common;
using LLama.Native;

namespace SharpLM.Tests.Export;

/// <summary>
/// How the tests and the decode benchmark load a GGUF into llama.cpp: on the CPU, a float32 KV cache and flash
/// attention off, so that only the weights' precision can differ from SharpLM's own pass. The bench links this file
/// (internal, so that each assembly has its own copy).
/// </summary>
internal static class LlamaCppParameters
{
    /// <param name="contextSize">Positions of the context, and tokens per batch (a whole prompt decodes at once).</param>
    public static ModelParams Exact(string path, uint contextSize, int threads) => new(path)
    {
        ContextSize = contextSize,
        BatchSize = contextSize,
        UBatchSize = contextSize,
        GpuLayerCount = 0,
        Threads = threads,
        BatchThreads = threads,
        TypeK = GGMLType.GGML_TYPE_F32,
        TypeV = GGMLType.GGML_TYPE_F32,
        FlashAttention = false,
    };
}
