using System.Text;
using LLama;
using LLama.Native;

namespace SharpLM.Tests.Export;

/// <summary>
/// A GGUF file loaded by real llama.cpp in-process (LLamaSharp and its CPU backend): tokenizer, detokenizer, and
/// log-probabilities from a float32 KV cache with flash attention off, so only the weights' precision differs.
/// </summary>
public sealed class LlamaCppModel : IDisposable
{
    static readonly object LogSetup = new();
    static bool logSilenced;

    readonly LLamaWeights weights;
    readonly LLamaContext context;

    public LlamaCppModel(string path, uint contextSize)
    {
        SilenceLog();
        var parameters = LlamaCppParameters.Exact(path, contextSize, threads: 2);
        weights = LLamaWeights.LoadFromFile(parameters);
        context = weights.CreateContext(parameters);
    }

    public IReadOnlyDictionary<string, string> Metadata => weights.Metadata;

    public int VocabularySize => weights.Vocab.Count;

    /// <summary>llama.cpp's ids for <paramref name="text"/>, special tokens parsed, no BOS added.</summary>
    public int[] Tokenize(string text) => text.Length == 0 ? [] : [.. context.Tokenize(text, addBos: false, special: true).Select(token => (int)token)];

    /// <summary>llama.cpp's detokenizer (llama_detokenize, which applies the vocabulary's space clean-up), special tokens rendered.</summary>
    public unsafe string Detokenize(int[] ids)
    {
        if (ids.Length == 0)
        {
            return "";
        }
        var tokens = ids.Select(id => (LLamaToken)id).ToArray();
        var buffer = new byte[ids.Length * 64 + 64];
        var (vocabularyAddress, detokenizeAddress) = DetokenizeAddresses.Value;
        var getVocabulary = (delegate* unmanaged<nint, nint>)vocabularyAddress;
        // The two C bools go as 32-bit 0/1: clang-built callees may read a bool argument as a zero-extended int.
        var detokenize = (delegate* unmanaged<nint, int*, int, byte*, int, int, int, int>)detokenizeAddress;
        int length;
        fixed (LLamaToken* tokenPointer = tokens)
        fixed (byte* bufferPointer = buffer)
        {
            nint vocabulary = getVocabulary(weights.NativeHandle.DangerousGetHandle());
            length = detokenize(vocabulary, (int*)tokenPointer, tokens.Length, bufferPointer, buffer.Length, 0, 1);
        }
        if (length < 0)
        {
            throw new InvalidOperationException($"llama_detokenize needs {-length} bytes.");
        }
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>log p(ids[i + 1] | ids[0..i]) for every i, from one pass over a fresh cache, in float64.</summary>
    public double[] NextTokenLogProbabilities(ReadOnlySpan<int> ids)
    {
        var logits = Logits(ids);
        var result = new double[ids.Length - 1];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = LogSoftmax(logits[i])[ids[i + 1]];
        }
        return result;
    }

    /// <summary>The argmax continuation of <paramref name="prompt"/>, fed back one token at a time.</summary>
    public int[] Greedy(int[] prompt, int count)
    {
        var sequence = new List<int>(prompt);
        for (int i = 0; i < count; i++)
        {
            float[] last = Logits(sequence.ToArray())[^1];
            int best = 0;
            for (int v = 1; v < last.Length; v++)
            {
                if (last[v] > last[best])
                {
                    best = v;
                }
            }
            sequence.Add(best);
        }
        return [.. sequence.Skip(prompt.Length)];
    }

    float[][] Logits(ReadOnlySpan<int> ids)
    {
        context.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < ids.Length; i++)
        {
            batch.Add((LLamaToken)ids[i], i, (LLamaSeqId)0, true);
        }
        var status = context.NativeHandle.Decode(batch);
        if (status != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode failed: {status}");
        }
        var rows = new float[ids.Length][];
        for (int i = 0; i < ids.Length; i++)
        {
            rows[i] = context.NativeHandle.GetLogitsIth(i).ToArray();
        }
        return rows;
    }

    static double[] LogSoftmax(float[] logits)
    {
        double max = logits.Max();
        double sum = logits.Sum(logit => Math.Exp(logit - max));
        double logSum = max + Math.Log(sum);
        return [.. logits.Select(logit => logit - logSum)];
    }

    /// <summary>
    /// LLamaSharp keeps llama_detokenize internal, so it is called in the libllama LLamaSharp loaded (found in the
    /// process's memory map; loading it again by path returns the same handle).
    /// </summary>
    static readonly Lazy<(nint Vocabulary, nint Detokenize)> DetokenizeAddresses = new(() =>
    {
        string library = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .First(path => Path.GetFileName(path) == "libllama.so");
        nint handle = System.Runtime.InteropServices.NativeLibrary.Load(library);
        return (System.Runtime.InteropServices.NativeLibrary.GetExport(handle, "llama_model_get_vocab"),
            System.Runtime.InteropServices.NativeLibrary.GetExport(handle, "llama_detokenize"));
    });

    static void SilenceLog()
    {
        lock (LogSetup)
        {
            if (!logSilenced)
            {
                // llama.cpp prints every key and tensor it loads; the tests assert on what it computes instead.
                NativeLibraryConfig.All.WithLogCallback((_, _) => { });
                logSilenced = true;
            }
        }
    }

    public void Dispose()
    {
        context.Dispose();
        weights.Dispose();
    }
}
