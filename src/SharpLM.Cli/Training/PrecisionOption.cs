using System.CommandLine;
using SharpLM.Precision;

namespace SharpLM.Cli.Training;

/// <summary>
/// `--precision fp32|bf16|auto`, spelled as users type it (help and errors in lower case), shared by every verb that
/// runs the model. A string option, because help would show an enum default by its C# name.
/// </summary>
internal static class PrecisionOption
{
    static readonly string[] Names = [.. Enum.GetNames<PrecisionSetting>().Select(n => n.ToLowerInvariant())];

    public static Option<string> Create(string description, PrecisionSetting defaultValue) => new("--precision")
    {
        Description = description,
        HelpName = string.Join("|", Names),
        DefaultValueFactory = _ => Name(defaultValue),
        CustomParser = result =>
        {
            string value = result.Tokens.Single().Value;
            if (!Names.Contains(value, StringComparer.OrdinalIgnoreCase))
            {
                result.AddError($"--precision must be one of {string.Join(", ", Names)}, got '{value}' (float16 is not offered: CPUs run it a hundred times slower than fp32).");
            }
            return value.ToLowerInvariant();
        },
    };

    /// <summary>The setting a value of this option names.</summary>
    public static PrecisionSetting Parse(string value) => Enum.Parse<PrecisionSetting>(value, ignoreCase: true);

    static string Name(PrecisionSetting setting) => setting.ToString().ToLowerInvariant();
}
