using System.Text;
using SharpLM.Data;
using SharpLM.Generation;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

[Collection(TrainedRunCollection.Name)]
public sealed class HeldOutEvaluationTests(TrainedRunFixture run)
{
    [Theory]
    [InlineData(null)]
    [InlineData(8)]
    public void Run_OnText_EqualsCrossEntropyOfEachWindowsScoredTargets(int? stride)
    {
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        var report = HeldOutEvaluation.Run(trained, run.HeldOutText, stride, batchSize: 3, CPU);

        int[] ids = trained.Tokenizer.Encode(File.ReadAllText(run.HeldOutText));
        var windows = EvaluationWindows.Strided(ids.Length, trained.Model.Config.ContextLength, stride ?? trained.Model.Config.ContextLength);
        double total = 0;
        using (no_grad())
        {
            foreach (var window in windows)
            {
                using var scope = NewDisposeScope();
                long[] slice = [.. ids.Skip((int)window.Start).Take(window.Length + 1).Select(id => (long)id)];
                var logits = trained.Model.call(tensor(slice[..^1]).unsqueeze(0)).squeeze(0); // (length, vocab)
                var losses = nn.functional.cross_entropy(logits.to_type(ScalarType.Float64), tensor(slice[1..]), reduction: nn.Reduction.None);
                total += losses.narrow(0, window.FirstScored, window.ScoredCount).sum().item<double>();
            }
        }
        Assert.Equal(ids.Length - 1, report.Tokens);
        Assert.Equal(windows.Count, report.Windows);
        Assert.Equal(total / (ids.Length - 1), report.Loss, 1e-6);
        Assert.Equal(Math.Exp(report.Loss), report.Perplexity, 1e-9);

        long bytes = Encoding.UTF8.GetByteCount(File.ReadAllText(run.HeldOutText)) - trained.Tokenizer.TokenBytes(ids[0]).Length;
        Assert.Equal(bytes, report.Bytes);
        Assert.Equal(total / Math.Log(2) / bytes, report.BitsPerByte, 1e-6);
    }

    [Fact]
    public void Run_OnTheTokenFileOfTheText_GivesTheSameNumbers()
    {
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        string tokens = Path.Combine(run.Directory, "heldout-evaluation.tokens");
        TokenFile.Encode(trained.Tokenizer, run.HeldOutText, tokens);
        var fromText = HeldOutEvaluation.Run(trained, run.HeldOutText, null, batchSize: 4, CPU);
        var fromTokens = HeldOutEvaluation.Run(trained, tokens, null, batchSize: 4, CPU);
        Assert.Equal(fromText with { Data = tokens }, fromTokens);
    }

    [Fact]
    public void Run_WithATokenFileOfAnotherTokenizer_Fails()
    {
        using var trained = TrainedModel.Load(run.Run, null, CPU);
        string tokens = Path.Combine(run.Directory, "foreign.tokens");
        TokenFile.Write(tokens, [1, 2, 3, 4], trained.Tokenizer.VocabularySize, "another-tokenizer");
        Assert.Throws<InvalidDataException>(() => HeldOutEvaluation.Run(trained, tokens, null, batchSize: 4, CPU));
    }
}
