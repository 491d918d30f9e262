using System.Text.RegularExpressions;
using SharpLM.Tokenization;

namespace SharpLM.Tests.Tokenization;

/// <summary>References for GPT-2's tokenizer: .NET's Regex with GPT-2's pre-tokenisation pattern.</summary>
public static partial class Gpt2Reference
{
    [GeneratedRegex(Gpt2PreTokenizer.Pattern)]
    public static partial Regex PreTokenizerRegex();
}
