using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM;

/// <summary>Turns a user's device string into a TorchSharp device, with errors a person can act on.</summary>
public static class Devices
{
    /// <summary>Parses "cpu", "cuda" or "cuda:N"; fails clearly when the device does not exist here.</summary>
    public static Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string trimmed = name.Trim().ToLowerInvariant();
        if (trimmed == "cpu")
        {
            return CPU;
        }
        if (trimmed == "cuda" || trimmed.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (trimmed.Length > 5 && !int.TryParse(trimmed.AsSpan(5), out index))
            {
                throw new ArgumentException($"invalid device '{name}': expected cpu, cuda or cuda:N.", nameof(name));
            }
            if (!cuda.is_available())
            {
                throw new ArgumentException(
                    $"device '{name}' is not available: this build has no CUDA backend or no GPU is visible (build with -p:SharpLMTorchBackend=cuda).",
                    nameof(name));
            }
            if (index < 0 || index >= cuda.device_count())
            {
                throw new ArgumentException($"device '{name}' does not exist: {cuda.device_count()} CUDA device(s) visible.", nameof(name));
            }
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"invalid device '{name}': expected cpu, cuda or cuda:N.", nameof(name));
    }
}
