using SharpLM.Data;

namespace SharpLM.Tests.Data;

public class StoryCorpusTests
{
    [Fact]
    public void Stories_WithSameSeed_AreIdentical_AndDifferentSeedsDiffer()
    {
        Assert.Equal(StoryCorpus.Stories(50, seed: 1), StoryCorpus.Stories(50, seed: 1));
        Assert.NotEqual(StoryCorpus.Stories(50, seed: 1), StoryCorpus.Stories(50, seed: 2));
    }

    [Fact]
    public void Stories_AreVariedAsciiEnglish()
    {
        var stories = StoryCorpus.Stories(500, seed: 3).ToList();
        Assert.True(stories.Distinct().Count() > 490, "stories should rarely repeat");
        Assert.All(stories, s => Assert.Matches(@"^[A-Z][A-Za-z ,.!?""']+$", s));
        Assert.InRange(stories.Average(s => s.Length), 300, 1200);
    }

    [Fact]
    public void Write_SeparatesStoriesWithEndOfText()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-corpus-{Guid.NewGuid():N}.txt");
        try
        {
            StoryCorpus.Write(path, 20, seed: 4);
            string text = File.ReadAllText(path);
            Assert.Equal(20, text.Split(StoryCorpus.EndOfText).Length - 1);
            Assert.StartsWith(StoryCorpus.Stories(1, seed: 4).Single(), text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
