using SharpLM.Accounting;

namespace SharpLM.Tests.Accounting;

public class MemorySizeTests
{
    [Theory]
    [InlineData("80GB", 80_000_000_000)]
    [InlineData("80gb", 80_000_000_000)]
    [InlineData("80GiB", 85_899_345_920)]
    [InlineData("1.5 GiB", 1_610_612_736)]
    [InlineData("512MB", 512_000_000)]
    [InlineData("512MiB", 536_870_912)]
    [InlineData("64KiB", 65_536)]
    [InlineData("2TB", 2_000_000_000_000)]
    [InlineData("100B", 100)]
    public void Parse_ANumberAndAUnit_GivesBytes(string text, long bytes)
    {
        Assert.Equal(bytes, MemorySize.Parse(text));
    }

    [Theory]
    [InlineData("80")]
    [InlineData("GB")]
    [InlineData("80XB")]
    [InlineData("-5GB")]
    [InlineData("0GB")]
    [InlineData("0.1B")]
    [InlineData("99999999999TB")]
    [InlineData("")]
    public void Parse_AnythingElse_ThrowsFormatException(string text)
    {
        Assert.Throws<FormatException>(() => MemorySize.Parse(text));
    }

    [Fact]
    public void Format_UsesDecimalUnits()
    {
        Assert.Equal("18.03 GB", MemorySize.Format(18_034_335_744));
        Assert.Equal("93.36 MB", MemorySize.Format(93_356_032));
    }
}
