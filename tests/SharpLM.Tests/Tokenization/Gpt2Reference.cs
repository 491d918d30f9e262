using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using SharpLM.Tokenization;

namespace SharpLM.Tests.Tokenization;

/// <summary>
/// GPT-2's tokenizer files from ../shared/data/cs336, loaded once per test run: as a SharpLM
/// <see cref="Tokenization.Tokenizer"/> and as Microsoft.ML.Tokenizers' byte-level BPE with GPT-2's
/// pre-tokenisation regex, the reference for parity.
/// </summary>
public static partial class Gpt2Reference
{
    public const string EndOfText = "<|endoftext|>";
    public const int EndOfTextId = 50256;

    static readonly Lazy<SharpLM.Tokenization.Tokenizer> LazyTokenizer = new(() =>
        SharpLM.Tokenization.Tokenizer.FromFiles(VocabularyPath, MergesPath, [EndOfText]));

    static readonly Lazy<BpeTokenizer> LazyMicrosoft = new(() =>
    {
        var specials = new Dictionary<string, int> { [EndOfText] = EndOfTextId };
        return BpeTokenizer.Create(new BpeOptions(VocabularyPath, MergesPath)
        {
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(PreTokenizerRegex(), specials),
            SpecialTokens = specials,
        });
    });

    public static string VocabularyPath => SharedData.Path("cs336", "gpt2_vocab.json");

    public static string MergesPath => SharedData.Path("cs336", "gpt2_merges.txt");

    /// <summary>Ours, with &lt;|endoftext|&gt; special.</summary>
    public static SharpLM.Tokenization.Tokenizer Tokenizer => LazyTokenizer.Value;

    /// <summary>Microsoft.ML.Tokenizers', with &lt;|endoftext|&gt; special.</summary>
    public static BpeTokenizer Microsoft => LazyMicrosoft.Value;

    [GeneratedRegex(Gpt2PreTokenizer.Pattern)]
    public static partial Regex PreTokenizerRegex();
}
