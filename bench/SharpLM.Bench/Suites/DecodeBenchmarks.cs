using System.Diagnostics;
using System.Globalization;
using LLama;
using LLama.Native;
using SharpLM.Data;
using SharpLM.Export;
using SharpLM.Generation;
using SharpLM.Model;
using SharpLM.Tests.Export;
using SharpLM.Tokenization;
using static TorchSharp.torch;

namespace SharpLM.Bench.Suites;

/// <summary>
/// Greedy decoding of 256 new tokens after a 64-token prompt, batch 1, 1 thread: SharpLM's KV-cache path
/// (<see cref="BatchDecoder"/> with the session's <see cref="DecodingWeights"/>, as `sharplm generate` runs it, so
/// the float32 one-token steps are the C# <c>CpuDecodeStep</c>) beside llama.cpp (LLamaSharp 0.30.0, CPU backend) on
/// the same random weights exported to an f32 GGUF, with an f32 KV cache. Prefill is the prompt's pass; decode the
/// 255 one-token passes after it. Both models get context_length 512 so that the 320 positions fit without sliding.
/// </summary>
public static class DecodeBenchmarks
{
    public const int PromptTokens = 64;
    public const int NewTokens = 256;
    const int Runs = 3;

    /// <summary>The handout's TinyStories shape and the quickstart's, with the vocabulary of a BPE trained here.</summary>
    public static IReadOnlyList<(string Name, TransformerConfig Config)> Shapes(int vocabularySize) =>
    [
        ("TinyStories shape (d 512, 4 layers, 16 heads, d_ff 1344)", new TransformerConfig(vocabularySize, 512, 512, 4, 16, 1344, 10_000)),
        ("quickstart shape (d 128, 4 layers, 4 heads, d_ff 384)", new TransformerConfig(vocabularySize, 512, 128, 4, 4, 384, 10_000)),
    ];

    /// <summary>A byte-level BPE of about <paramref name="vocabularySize"/> tokens, trained on the built-in story corpus.</summary>
    public static Tokenizer TrainTokenizer(string directory, int vocabularySize)
    {
        string corpus = Path.Combine(directory, "stories.txt");
        StoryCorpus.Write(corpus, 3000, 1);
        return BpeTrainer.Train(corpus, vocabularySize, ["<|endoftext|>"]).ToTokenizer();
    }

    public static TransformerLM RandomModel(TransformerConfig config)
    {
        using var generator = new Generator(1);
        var model = new TransformerLM(config, generator: generator);
        model.eval();
        return model;
    }

    public static void Run()
    {
        set_num_threads(1);
        NativeLibraryConfig.All.WithLogCallback((_, _) => { });
        string directory = Directory.CreateTempSubdirectory("sharplm-bench-decode-").FullName;
        try
        {
            var tokenizer = TrainTokenizer(directory, 1000);
            var rows = new List<string[]>();
            foreach (var (name, config) in Shapes(tokenizer.VocabularySize))
            {
                using var model = RandomModel(config);
                string gguf = Path.Combine(directory, "model.gguf");
                GgufExport.Write(model, tokenizer, "bench", ExportDType.F32, gguf);
                using var llama = new LlamaCppGreedy(gguf, PromptTokens + NewTokens);
                int[] prompt = RandomPrompt(config.VocabSize);
                var ours = new List<DecodeTiming>();
                var theirs = new List<DecodeTiming>();
                int[] ourTokens = [];
                int[] theirTokens = [];
                for (int run = 0; run < Runs + 1; run++)
                {
                    // Round-robin, so background load falls on both alike; the first round warms up.
                    (var ourTiming, ourTokens) = SharpLMGreedy(model, prompt);
                    (var theirTiming, theirTokens) = llama.Run(prompt, NewTokens);
                    if (run > 0)
                    {
                        ours.Add(ourTiming);
                        theirs.Add(theirTiming);
                    }
                }
                int agreeing = ourTokens.Zip(theirTokens).TakeWhile(pair => pair.First == pair.Second).Count();
                var ourMedian = DecodeTiming.Median(ours);
                var theirMedian = DecodeTiming.Median(theirs);
                rows.Add([name, F(ourMedian.PrefillTokensPerSecond), F(theirMedian.PrefillTokensPerSecond),
                    F(ourMedian.DecodeTokensPerSecond), F(theirMedian.DecodeTokensPerSecond),
                    $"{ourMedian.DecodeTokensPerSecond / theirMedian.DecodeTokensPerSecond:0.00}× ({(ourMedian.DecodeTokensPerSecond >= theirMedian.DecodeTokensPerSecond ? "met" : "MISSED")})",
                    $"{agreeing} of {NewTokens}"]);
            }
            Console.WriteLine($"Greedy decode, {PromptTokens}-token prompt + {NewTokens} new tokens, batch 1, 1 thread each, f32 weights and KV cache, median of {Runs} runs; vocabulary {tokenizer.VocabularySize}.");
            Console.WriteLine();
            MarkdownTable.Print(Console.Out,
                ["model (random weights)", "SharpLM prefill tok/s", "llama.cpp prefill tok/s", "SharpLM decode tok/s", "llama.cpp decode tok/s",
                 "decode SharpLM ÷ llama.cpp (target ≥ 1)", "greedy tokens agreeing"], rows);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static int[] RandomPrompt(int vocabularySize)
    {
        var random = new Random(7);
        return [.. Enumerable.Range(0, PromptTokens).Select(_ => random.Next(vocabularySize))];
    }

    static (DecodeTiming Timing, int[] Tokens) SharpLMGreedy(TransformerLM model, int[] prompt)
    {
        using var noGrad = no_grad();
        using var weights = new DecodingWeights(model);
        using var sequence = new DecodingSequence(model.Config, prompt);
        var tokens = new List<int>();
        var clock = Stopwatch.StartNew();
        TimeSpan prefill = default;
        for (int i = 0; i < NewTokens; i++)
        {
            using var scope = NewDisposeScope();
            var logits = BatchDecoder.NextLogits(model, [sequence], weights); // (1, vocab)
            int next = Sampler.Sample(logits[0], temperature: 0, topP: 1, generator: null);
            if (i == 0)
            {
                prefill = clock.Elapsed;
                clock.Restart();
            }
            sequence.Add(next);
            tokens.Add(next);
        }
        return (new DecodeTiming(prefill, clock.Elapsed), [.. tokens]);
    }

    static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>llama.cpp's greedy loop: the prompt in one llama_decode, then one token per call, argmax of the logits.</summary>
    sealed class LlamaCppGreedy : IDisposable
    {
        readonly LLamaWeights weights;
        readonly LLamaContext context;

        public LlamaCppGreedy(string path, int contextSize)
        {
            var parameters = LlamaCppParameters.Exact(path, (uint)contextSize, threads: 1);
            weights = LLamaWeights.LoadFromFile(parameters);
            context = weights.CreateContext(parameters);
        }

        public (DecodeTiming Timing, int[] Tokens) Run(int[] prompt, int count)
        {
            context.NativeHandle.MemoryClear(true);
            var tokens = new List<int>();
            var batch = new LLamaBatch();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < prompt.Length; i++)
            {
                batch.Add((LLamaToken)prompt[i], i, (LLamaSeqId)0, i == prompt.Length - 1);
            }
            Decode(batch);
            tokens.Add(Argmax(context.NativeHandle.GetLogitsIth(prompt.Length - 1)));
            var prefill = clock.Elapsed;
            clock.Restart();
            for (int i = 1; i < count; i++)
            {
                batch.Clear();
                batch.Add((LLamaToken)tokens[^1], prompt.Length + i - 1, (LLamaSeqId)0, true);
                Decode(batch);
                tokens.Add(Argmax(context.NativeHandle.GetLogitsIth(0)));
            }
            return (new DecodeTiming(prefill, clock.Elapsed), [.. tokens]);
        }

        void Decode(LLamaBatch batch)
        {
            var status = context.NativeHandle.Decode(batch);
            if (status != DecodeResult.Ok)
            {
                throw new InvalidOperationException($"llama_decode failed: {status}");
            }
        }

        static int Argmax(Span<float> logits)
        {
            int best = 0;
            for (int v = 1; v < logits.Length; v++)
            {
                if (logits[v] > logits[best])
                {
                    best = v;
                }
            }
            return best;
        }

        public void Dispose()
        {
            context.Dispose();
            weights.Dispose();
        }
    }
}

/// <summary>One greedy run: the prompt's prefill, then the NewTokens − 1 one-token decode passes.</summary>
internal sealed record DecodeTiming(TimeSpan Prefill, TimeSpan Decode)
{
    public double PrefillTokensPerSecond => DecodeBenchmarks.PromptTokens / Prefill.TotalSeconds;

    public double DecodeTokensPerSecond => (DecodeBenchmarks.NewTokens - 1) / Decode.TotalSeconds;

    public static DecodeTiming Median(IReadOnlyList<DecodeTiming> runs) => new(
        runs.Select(run => run.Prefill).Order().ElementAt(runs.Count / 2),
        runs.Select(run => run.Decode).Order().ElementAt(runs.Count / 2));
}
