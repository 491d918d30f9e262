using System.Reflection;
using System.Text.Json.Serialization;

namespace SharpLM.Model;

/// <summary>
/// The names of an architecture option's values as configs spell them (the <see cref="JsonStringEnumMemberNameAttribute"/>
/// of each member: "pre", "nope", "swiglu", ...), so that flags, messages and JSON share one spelling.
/// </summary>
public static class OptionNames
{
    /// <summary>The config spelling of <paramref name="value"/>.</summary>
    public static string Of<T>(T value) where T : struct, Enum
    {
        string member = value.ToString();
        return typeof(T).GetField(member)?.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? member;
    }

    /// <summary>Every value's spelling, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum => [.. Enum.GetValues<T>().Select(Of)];

    /// <exception cref="ArgumentException">No value is spelled <paramref name="name"/>; the message lists those that are.</exception>
    public static T Parse<T>(string name, string setting) where T : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(Of(value), name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        throw new ArgumentException($"{setting} must be one of {string.Join(", ", All<T>())}, got \"{name}\".");
    }
}
