using TorchSharp.Modules;

namespace SharpLM.Training;

/// <summary>
/// What a <see cref="TrainingStep"/> does with the summed gradients before clipping them: data-parallel training
/// averages them across processes here, so that every process clips and updates with the same gradients.
/// </summary>
public interface IGradientReduction
{
    /// <summary>Replaces each parameter's gradient, in place, by its reduction.</summary>
    void Reduce(IReadOnlyList<Parameter> parameters);
}
