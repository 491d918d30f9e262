namespace SharpLM.Tests;

/// <summary>
/// The project's test data lives outside the repository in ../shared/data (CI always has it). Tests that
/// need it use <see cref="SharedDataFactAttribute"/> and skip with a reason in a clone without it.
/// </summary>
public static class SharedData
{
    public static string? Directory { get; } = Find();

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Directory ?? throw new InvalidOperationException("../shared/data is missing"), .. parts]);

    static string? Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = System.IO.Path.Combine(directory.FullName, "..", "shared", "data");
            if (System.IO.Directory.Exists(candidate))
            {
                return System.IO.Path.GetFullPath(candidate);
            }
        }
        return null;
    }
}

/// <summary>A fact that needs ../shared/data; skipped with a stated reason where the clone has none.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Directory is null)
        {
            Skip = "needs ../shared/data beside the repository (CI provides it)";
        }
    }
}

/// <summary>A theory that needs ../shared/data; skipped with a stated reason where the clone has none.</summary>
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute()
    {
        if (SharedData.Directory is null)
        {
            Skip = "needs ../shared/data beside the repository (CI provides it)";
        }
    }
}
