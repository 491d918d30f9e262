namespace SharpLM.Tokenization;

/// <summary>Compares byte arrays by content, so that a token's bytes can be a dictionary key.</summary>
internal sealed class ByteStringComparer : IEqualityComparer<byte[]>
{
    public static ByteStringComparer Instance { get; } = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var hash = new HashCode();
        hash.AddBytes(obj);
        return hash.ToHashCode();
    }
}
