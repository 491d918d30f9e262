using SharpLM.Tokenization;

namespace SharpLM.Export;

/// <summary>
/// A SharpLM tokenizer as llama.cpp's "gpt2" (byte-level BPE) vocabulary: tokens in id order, ordinary ones
/// through GPT-2's byte-to-unicode map and special ones as their text, merges in training order.
/// </summary>
public sealed class GgufVocabulary
{
    /// <summary>llama.cpp's token types (llama.h's llama_token_type).</summary>
    const int NormalType = 1;
    const int ControlType = 3;

    GgufVocabulary(string[] tokens, int[] types, string[] merges, int endOfText)
    {
        Tokens = tokens;
        TokenTypes = types;
        Merges = merges;
        EndOfTextId = endOfText;
    }

    public IReadOnlyList<string> Tokens { get; }

    /// <summary>1 (normal) for every ordinary token, byte tokens included (llama.cpp drops type 6 "byte" tokens when detokenizing); 3 (control) for special ones.</summary>
    public IReadOnlyList<int> TokenTypes { get; }

    public IReadOnlyList<string> Merges { get; }

    /// <summary>llama.cpp's bos and eos: <c>&lt;|endoftext|&gt;</c>, else the first special token (left unset, they default to id 11).</summary>
    public int EndOfTextId { get; }

    /// <exception cref="InvalidDataException">
    /// The ids have a gap, there is no special token to end generation with, or two tokens have the same string in
    /// llama.cpp's vocabulary, which makes it abort on load.
    /// </exception>
    public static GgufVocabulary From(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var specialIds = tokenizer.SpecialTokens.ToDictionary(token => tokenizer.SpecialTokenId(token)!.Value, token => token);
        var tokens = new string[tokenizer.VocabularySize];
        var types = new int[tokens.Length];
        var idOfToken = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++)
        {
            if (!tokenizer.Vocabulary.TryGetValue(id, out byte[]? bytes))
            {
                throw new InvalidDataException($"the vocabulary has no token {id}: llama.cpp needs ids 0 … {tokens.Length - 1} without gaps.");
            }
            bool special = specialIds.TryGetValue(id, out string? text);
            tokens[id] = special ? text! : ByteToUnicode.Encode(bytes);
            types[id] = special ? ControlType : NormalType;
            if (!idOfToken.TryAdd(tokens[id], id))
            {
                throw new InvalidDataException(
                    $"tokens {idOfToken[tokens[id]]} and {id} are both \"{tokens[id]}\" in llama.cpp's vocabulary (special tokens are stored as their text, " +
                    "ordinary ones through GPT-2's byte-to-unicode map), which makes llama.cpp abort: rename the special token.");
            }
        }
        int endOfText = tokenizer.SpecialTokenId("<|endoftext|>")
            ?? (tokenizer.SpecialTokens.Count > 0 ? tokenizer.SpecialTokenId(tokenizer.SpecialTokens[0])!.Value
                : throw new InvalidDataException("the tokenizer has no special token: llama.cpp needs one to end generation (train it with <|endoftext|>)."));
        return new GgufVocabulary(tokens, types, [.. tokenizer.Merges.Select(merge => merge.ToString())], endOfText);
    }
}
