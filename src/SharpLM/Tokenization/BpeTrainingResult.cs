namespace SharpLM.Tokenization;

/// <summary>
/// What BPE training learned: the vocabulary (ids 0-255 are the bytes, then the special tokens, then one token
/// per new byte string in order of creation) and the merges in order of creation.
/// </summary>
public sealed class BpeTrainingResult(IReadOnlyDictionary<int, byte[]> vocabulary, IReadOnlyList<BpeMerge> merges, IReadOnlyList<string> specialTokens)
{
    public IReadOnlyDictionary<int, byte[]> Vocabulary { get; } = vocabulary;

    public IReadOnlyList<BpeMerge> Merges { get; } = merges;

    public IReadOnlyList<string> SpecialTokens { get; } = specialTokens;

    public Tokenizer ToTokenizer() => new(Vocabulary, Merges, SpecialTokens);
}
