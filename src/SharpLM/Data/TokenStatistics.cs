namespace SharpLM.Data;

/// <summary>Statistics of a token dataset that serve as baselines for a model's loss.</summary>
public static class TokenStatistics
{
    /// <summary>
    /// The entropy −Σ p(x) ln p(x) of the dataset's token frequencies, in nats: the loss of the best model that
    /// ignores context. A language model that uses its context must get below it.
    /// </summary>
    public static double UnigramEntropy(TokenDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var counts = new long[dataset.VocabularySize];
        var buffer = new long[1 << 16];
        for (long start = 0; start < dataset.Count; start += buffer.Length)
        {
            var span = buffer.AsSpan(0, (int)Math.Min(buffer.Length, dataset.Count - start));
            dataset.Read(start, span);
            foreach (long id in span)
            {
                counts[id]++;
            }
        }
        double total = dataset.Count;
        return -counts.Where(c => c > 0).Sum(c => c / total * Math.Log(c / total));
    }
}
