namespace SharpLM.Tokenization;

/// <summary>Trains a byte-level BPE tokenizer on a UTF-8 text file (handout §2.4, train_bpe).</summary>
public static class BpeTrainer
{
    /// <summary>
    /// Learns merges on <paramref name="inputPath"/> until the vocabulary (256 bytes, the special tokens, then the
    /// merged tokens) has <paramref name="vocabSize"/> entries, or fewer when no pair is left to merge. The most
    /// frequent pair is merged first; ties go to the lexicographically greater pair of byte strings. Special tokens
    /// split the text and are never part of a merge.
    /// </summary>
    /// <exception cref="FileNotFoundException">The input does not exist.</exception>
    /// <exception cref="InvalidDataException">The input is not UTF-8; the message gives the byte offset.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary size leaves no room beyond the bytes and special tokens.</exception>
    public static BpeTrainingResult Train(string inputPath, int vocabSize, IReadOnlyList<string> specialTokens,
        IProgress<BpeTrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Train(inputPath, vocabSize, specialTokens, new IncrementalMergeLearner(), progress, cancellationToken);

    internal static BpeTrainingResult Train(string inputPath, int vocabSize, IReadOnlyList<string> specialTokens, IMergeLearner learner,
        IProgress<BpeTrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(specialTokens);
        List<string> specials = [.. specialTokens.Distinct(StringComparer.Ordinal)];
        var matcher = new SpecialTokenMatcher(specials);
        int minimum = 256 + specials.Count;
        if (vocabSize < minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize,
                $"vocab size {vocabSize} is below 256 bytes + {specials.Count} special token(s) = {minimum}");
        }
        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException($"input file not found: {inputPath}", inputPath);
        }
        var counts = PreTokenCounter.Count(inputPath, matcher, progress, cancellationToken);
        return learner.Learn(counts, vocabSize, specials, progress, cancellationToken);
    }
}
