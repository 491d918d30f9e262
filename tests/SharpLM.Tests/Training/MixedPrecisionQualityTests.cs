using SharpLM.Precision;
using SharpLM.Training;

namespace SharpLM.Tests.Training;

/// <summary>
/// bf16 mixed precision must train as well as float32: the same seed and config on the TinyStories sample end at
/// nearly the same validation loss. The 1,000-step figures in docs/training.md come from the full-size version of this run.
/// </summary>
[Collection(ProcessMemoryCollection.Name)]
public sealed class MixedPrecisionQualityTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sharplm-mixed-precision-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    // One tokenizer for both runs, so their data and losses are the same quantities.
    TrainingConfig Config(PrecisionSetting precision) =>
        TinyStoriesSample.Config(Path.Combine(directory, precision.ToString()), steps: 200) with
        {
            Tokenizer = Path.Combine(directory, "tokenizer"),
            EvalBatches = 40,
            Precision = precision,
        };

    double FinalValidationLoss(TrainingConfig config)
    {
        using (var session = TrainingSession.Create(config, resume: false))
        {
            session.Train(SilentTrainingObserver.Instance);
        }
        return MetricRecord.ReadAll(new RunDirectory(config.RunDirectory!).MetricsPath).Last(r => r.ValLoss is not null).ValLoss!.Value;
    }

    [SharedDataFact]
    public void Bf16AndFp32_FromTheSameSeed_EndWithinThreeHundredthsOfANat()
    {
        double fp32 = FinalValidationLoss(Config(PrecisionSetting.Fp32));
        double bf16 = FinalValidationLoss(Config(PrecisionSetting.Bf16));

        Assert.True(fp32 < 5, $"the fp32 run did not learn: validation loss {fp32:F4}");
        Assert.True(Math.Abs(bf16 - fp32) < 0.03, $"bf16 ended at {bf16:F4}, fp32 at {fp32:F4}: {Math.Abs(bf16 - fp32):F4} nats apart");
    }
}
