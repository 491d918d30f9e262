namespace SharpLM.Tokenization;

/// <summary>One learned BPE merge: the tokens with bytes <see cref="Left"/> and <see cref="Right"/> become one.</summary>
public readonly record struct BpeMerge(byte[] Left, byte[] Right)
{
    /// <summary>The line of merges.txt: both sides through GPT-2's byte-to-unicode mapping, a space between.</summary>
    public override string ToString() => $"{ByteToUnicode.Encode(Left)} {ByteToUnicode.Encode(Right)}";
}
