namespace SharpLM.Tests.Tokenization;

/// <summary>Every text file in ../shared/data, as paths relative to it, for theories.</summary>
public static class TextFiles
{
    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        if (SharedData.Directory is null)
        {
            data.Add("(none)");
            return data;
        }
        foreach (string path in Directory.EnumerateFiles(SharedData.Directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(SharedData.Directory, path));
        }
        return data;
    }
}
