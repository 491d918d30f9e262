namespace SharpLM.Training;

/// <summary>Validation of optimizer hyper-parameters, with errors that name the parameter and its value.</summary>
internal static class HyperParameter
{
    public static double NonNegative(double value, string name) =>
        value >= 0 ? value : throw new ArgumentException($"{name} must be ≥ 0, got {value}.", name);

    /// <summary>A decay rate β in [0, 1).</summary>
    public static double DecayRate(double value, string name) =>
        value is >= 0 and < 1 ? value : throw new ArgumentException($"{name} must be in [0, 1), got {value}.", name);
}
