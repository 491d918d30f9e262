using SharpLM.Generation;
using static TorchSharp.torch;

namespace SharpLM.Cli;

/// <summary>How the verbs that read a run (generate, evaluate, export, serve) load its model.</summary>
internal static class TrainedModels
{
    /// <summary>
    /// <see cref="TrainedModel.Load"/>, warning on <paramref name="error"/> about each newer checkpoint that was unreadable
    /// and passed over, so that a result never silently comes from older weights than the user expects.
    /// </summary>
    public static TrainedModel Load(string checkpointOrRun, string? tokenizerDirectory, Device device, TextWriter error)
    {
        var trained = TrainedModel.Load(checkpointOrRun, tokenizerDirectory, device);
        foreach (string skipped in trained.Skipped)
        {
            error.WriteLine($"warning: {skipped}");
        }
        return trained;
    }
}
