using System.Globalization;
using System.IO.Compression;
using System.Xml.Linq;
using SharpLM.Data;

namespace SharpLM.Tests.Packaging;

/// <summary>
/// The packages as a user gets them: their metadata and contents, a console project that references the
/// library from a folder feed, and the tool installed with `dotnet tool install`. All run on the packages
/// packed from the working tree by <see cref="PackageFeed"/>.
/// </summary>
public sealed class PackageTests(PackageFeed feed) : IClassFixture<PackageFeed>
{
    const string Shim = "libLibTorchSharp.so";

    static XElement Metadata(ZipArchive package, string id)
    {
        using var nuspec = package.GetEntry($"{id}.nuspec")!.Open();
        var root = XDocument.Load(nuspec).Root!;
        return root.Element(root.Name.Namespace + "metadata")!;
    }

    static string Field(XElement metadata, string name) => metadata.Element(metadata.Name.Namespace + name)?.Value ?? "";

    [Theory]
    [InlineData("SharpLM")]
    [InlineData("SharpLM.Cli")]
    public void Package_CarriesDescriptionLicenseReadmeAndTags(string id)
    {
        using var package = ZipFile.OpenRead(feed.PackagePath(id));
        var metadata = Metadata(package, id);
        Assert.Equal("MIT", Field(metadata, "license"));
        Assert.Equal("README.md", Field(metadata, "readme"));
        Assert.NotNull(package.GetEntry("README.md"));
        Assert.Contains("torchsharp", Field(metadata, "tags").Split(' '));
        Assert.NotEqual("Package Description", Field(metadata, "description"));
        // Source Link reads the commit (and the origin's URL, where there is one) from the clone; an export has neither.
        if (Path.Exists(Path.Combine(PackageFeed.RepositoryRoot, ".git")))
        {
            Assert.NotNull(metadata.Element(metadata.Name.Namespace + "repository")?.Attribute("commit"));
        }
    }

    [Fact]
    public void LibraryPackage_ShipsTheShimFixAsBuildTransitiveAndDependsOnTheCpuLibTorchForLinuxX64Only()
    {
        using var package = ZipFile.OpenRead(feed.PackagePath("SharpLM"));
        Assert.NotNull(package.GetEntry("buildTransitive/SharpLM.targets"));
        Assert.NotNull(package.GetEntry("buildTransitive/MakeLibTorchSharpLoadable.cs"));
        Assert.NotNull(package.GetEntry("lib/net10.0/SharpLM.dll"));
        var metadata = Metadata(package, "SharpLM");
        var dependencies = metadata.Descendants(metadata.Name.Namespace + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
        Assert.Contains("TorchSharp", dependencies);
        Assert.Equal(["libtorch-cpu-linux-x64"], dependencies.Where(d => d.StartsWith("libtorch", StringComparison.Ordinal)));
    }

    [Fact]
    public void ToolPackage_HoldsOnePatchedShimAndOnlyLinuxX64Natives()
    {
        using var package = ZipFile.OpenRead(feed.PackagePath("SharpLM.Cli"));
        var shims = package.Entries.Where(e => e.Name == Shim).ToList();
        var shim = Assert.Single(shims);
        Assert.Equal("tools/net10.0/any/runtimes/linux-x64/native/" + Shim, shim.FullName);
        var runtimes = package.Entries.Select(e => e.FullName.Split('/')).Where(p => p.Length > 4 && p[3] == "runtimes").Select(p => p[4]).Distinct();
        Assert.Equal(["linux-x64"], runtimes);

        // The patch marks one version need weak: one flag byte of the package's file gains VER_FLG_WEAK (0x2).
        string original = Path.Combine(feed.UserPackagesDirectory, "torchsharp", PackageFeed.CentralVersion("TorchSharp"),
            "runtimes", "linux-x64", "native", Shim);
        byte[] expected = File.ReadAllBytes(original);
        byte[] packed = new byte[shim.Length];
        using (var stream = shim.Open())
        {
            stream.ReadExactly(packed);
        }
        Assert.Equal(expected.Length, packed.Length);
        int[] changed = Enumerable.Range(0, packed.Length).Where(i => packed[i] != expected[i]).ToArray();
        int at = Assert.Single(changed);
        Assert.Equal(expected[at] | 0x2, packed[at]);
    }

    [Fact]
    public void LibraryPackage_InAConsoleProjectOutsideTheRepository_BuildsAndTrainsATinyModel()
    {
        string project = Path.Combine(feed.Root, "consumer");
        Directory.CreateDirectory(project);
        foreach (string file in new[] { "Consumer.csproj", "Program.cs" })
        {
            File.Copy(Path.Combine(PackageFeed.RepositoryRoot, "tests", "SharpLM.Tests", "Packaging", "Consumer", file), Path.Combine(project, file));
        }
        feed.WriteNuGetConfig(project);
        feed.Dotnet(project, "build", "-c", "Release", $"-p:SharpLMVersion={PackageFeed.Version}", "-nodeReuse:false");

        // The buildTransitive targets ran: one shim, the patched one, and no other runtime's natives.
        string output = Path.Combine(project, "bin", "Release", "net10.0");
        string shim = Assert.Single(Directory.GetFiles(output, Shim, SearchOption.AllDirectories));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(feed.UserPackagesDirectory, "torchsharp", PackageFeed.CentralVersion("TorchSharp"),
            "runtimes", "linux-x64", "native", Shim)), File.ReadAllBytes(shim));
        Assert.Equal(["linux-x64"], Directory.GetDirectories(Path.Combine(output, "runtimes")).Select(Path.GetFileName));

        string work = Path.Combine(feed.Root, "consumer-run");
        Directory.CreateDirectory(work);
        var run = feed.Dotnet(work, Path.Combine(output, "Consumer.dll"), work);
        var losses = run.Output.Split('\n').Where(l => l.StartsWith("eval ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')).ToDictionary(p => long.Parse(p[1], CultureInfo.InvariantCulture), p => double.Parse(p[2], CultureInfo.InvariantCulture));
        Assert.Contains("outcome Completed 40", run.Output, StringComparison.Ordinal);
        // An untrained model predicts about uniformly: its loss is near ln(vocabulary) and training must lower it.
        Assert.InRange(losses[0], Math.Log(300) - 0.5, Math.Log(300) + 0.5);
        Assert.True(losses[40] < losses[0] - 0.5, $"validation loss {losses[0]} -> {losses[40]}");
    }

    [Fact]
    public void ToolPackage_InstalledWithDotnetTool_RunsAsSharplmAndTrains()
    {
        string tools = Path.Combine(feed.Root, "tools");
        feed.Dotnet(feed.Root, "tool", "install", "--tool-path", tools, "--add-source", feed.FeedDirectory, "SharpLM.Cli", "--version", PackageFeed.Version);
        string sharplm = Path.Combine(tools, "sharplm");

        var help = DotnetCommand.Run(sharplm, feed.Root, feed.ChildEnvironment, "quickstart", "--help").AssertSuccess("sharplm quickstart --help");
        Assert.Contains("sharplm quickstart [options]", help.Output, StringComparison.Ordinal);
        // In-process tests cannot see this: --version reports the entry assembly, which there is the test host.
        var version = DotnetCommand.Run(sharplm, feed.Root, feed.ChildEnvironment, "--version").AssertSuccess("sharplm --version");
        Assert.StartsWith(PackageFeed.Version + "+", version.Output, StringComparison.Ordinal);

        string work = Path.Combine(feed.Root, "tool-run");
        Directory.CreateDirectory(work);
        string corpus = Path.Combine(work, "stories.txt");
        StoryCorpus.Write(corpus, 100, seed: 3);
        string[] train = ["train", "--train", corpus, "--val", corpus, "--vocab-size", "300", "--context-length", "32", "--d-model", "32",
            "--num-layers", "1", "--num-heads", "2", "--d-ff", "64", "--batch-size", "4", "--steps", "6", "--warmup-iters", "2",
            "--eval-interval", "6", "--eval-batches", "2", "--checkpoint-interval", "6", "--run-dir", Path.Combine(work, "run")];
        var trained = DotnetCommand.Run(sharplm, work, feed.ChildEnvironment, train).AssertSuccess("sharplm " + string.Join(' ', train));
        Assert.Contains("done: step 6", trained.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(work, "run", "checkpoints", "step-00000006.ckpt")));

        var mistake = DotnetCommand.Run(sharplm, work, feed.ChildEnvironment, "train", "--no-such-flag");
        Assert.Equal(SharpLM.Cli.ExitCodes.UsageError, mistake.ExitCode);
        Assert.Contains("Run 'sharplm train --help' for usage.", mistake.Output, StringComparison.Ordinal);
    }
}
