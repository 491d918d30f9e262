using SharpLM.Generation;

namespace SharpLM.Tests.Generation;

public sealed class StopStringsTests
{
    [Fact]
    public void Feed_HoldsBackAPossibleStartOfAStopString_AndCutsAtIt()
    {
        var stops = new StopStrings(["\n\n", "END"]);
        Assert.Equal("Hello", stops.Feed("Hello\n"));
        Assert.Equal("\nwor", stops.Feed("wor"));
        Assert.Equal("ld ", stops.Feed("ld EN"));
        Assert.False(stops.Stopped);
        Assert.Equal("", stops.Feed("D more"));
        Assert.True(stops.Stopped);
        Assert.Equal("", stops.Feed("after"));
        Assert.Equal("", stops.Finish());
    }

    [Fact]
    public void Finish_ReleasesWhatTurnedOutNotToBeAStopString()
    {
        var stops = new StopStrings(["END"]);
        Assert.Equal("a ", stops.Feed("a E"));
        Assert.Equal("E", stops.Finish());
    }

    [Fact]
    public void Feed_WithoutStopStrings_PassesEverythingThrough()
    {
        var stops = new StopStrings([]);
        Assert.Equal("any text", stops.Feed("any text"));
        Assert.Equal("", stops.Finish());
    }
}
