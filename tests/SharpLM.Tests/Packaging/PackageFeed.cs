using System.Xml.Linq;

namespace SharpLM.Tests.Packaging;

/// <summary>
/// Packs the working tree's SharpLM and SharpLM.Cli once per test run into a folder feed, the way a release
/// would (`dotnet pack -c Release`), with bin/ and obj/ under a temporary artifacts path so the packing never
/// touches the build of the test run itself. Restores by the tests go to a temporary NuGet package folder:
/// the packages under test never land in, or come stale from, the user's cache, which serves every other
/// package read-only as a fallback folder.
/// </summary>
public sealed class PackageFeed : IDisposable
{
    /// <summary>A version no published package has, so nothing but this feed can supply it.</summary>
    public const string Version = "0.0.0-packagetest";

    public PackageFeed()
    {
        Root = Directory.CreateTempSubdirectory("sharplm-packages-").FullName;
        Directory.CreateDirectory(FeedDirectory);
        ChildEnvironment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(Root, "nuget-packages") };
        UserPackagesDirectory = DotnetCommand.Dotnet(RepositoryRoot, new Dictionary<string, string>(), "nuget", "locals", "global-packages", "--list")
            .AssertSuccess("dotnet nuget locals global-packages --list").Output.Split(':', 2)[1].Trim();
        foreach (string project in new[] { "src/SharpLM", "src/SharpLM.Cli" })
        {
            Dotnet(RepositoryRoot, "pack", Path.Combine(RepositoryRoot, project), "-c", "Release", "-o", FeedDirectory,
                "--artifacts-path", Path.Combine(Root, "artifacts"), $"-p:Version={Version}", "-nodeReuse:false");
        }
    }

    public string Root { get; }

    public string FeedDirectory => Path.Combine(Root, "feed");

    /// <summary>The NuGet package folder of the machine, where the repository's restore put TorchSharp and the rest.</summary>
    public string UserPackagesDirectory { get; }

    /// <summary>Variables for every child process: the temporary NuGet package folder.</summary>
    public IReadOnlyDictionary<string, string> ChildEnvironment { get; }

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public string PackagePath(string id) => Path.Combine(FeedDirectory, $"{id}.{Version}.nupkg");

    /// <summary>Runs dotnet with this feed's environment and fails the test if it fails.</summary>
    public ProcessResult Dotnet(string workingDirectory, params string[] arguments) =>
        DotnetCommand.Dotnet(workingDirectory, ChildEnvironment, arguments).AssertSuccess("dotnet " + string.Join(' ', arguments));

    /// <summary>A nuget.config that adds the feed to the user's sources and reads the user's cache as a fallback.</summary>
    public void WriteNuGetConfig(string directory) => new XDocument(
        new XElement("configuration",
            new XElement("packageSources", new XElement("add", new XAttribute("key", "sharplm-under-test"), new XAttribute("value", FeedDirectory))),
            new XElement("fallbackPackageFolders", new XElement("add", new XAttribute("key", "user-cache"), new XAttribute("value", UserPackagesDirectory)))))
        .Save(Path.Combine(directory, "nuget.config"));

    /// <summary>The version of a package in Directory.Packages.props.</summary>
    public static string CentralVersion(string id) => XDocument.Load(Path.Combine(RepositoryRoot, "Directory.Packages.props"))
        .Descendants("PackageVersion").Single(e => (string?)e.Attribute("Include") == id).Attribute("Version")!.Value;

    public void Dispose() => Directory.Delete(Root, recursive: true);

    static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SharpLM.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no SharpLM.slnx above {AppContext.BaseDirectory}");
    }
}
