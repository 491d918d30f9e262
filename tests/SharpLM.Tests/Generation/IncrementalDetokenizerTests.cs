using System.Text;
using SharpLM.Generation;
using SharpLM.Tokenization;

namespace SharpLM.Tests.Generation;

public sealed class IncrementalDetokenizerTests
{
    /// <summary>A byte-level vocabulary (id = byte) with no merges: every multi-byte character spans several tokens.</summary>
    static readonly Tokenizer Bytes = new(Enumerable.Range(0, 256).ToDictionary(id => id, id => new[] { (byte)id }), [], ["<|endoftext|>"]);

    static List<string> Pieces(IEnumerable<int> ids)
    {
        var detokenizer = new IncrementalDetokenizer(Bytes);
        var pieces = ids.Select(detokenizer.Append).ToList();
        pieces.Add(detokenizer.Finish());
        return pieces;
    }

    [Fact]
    public void Append_HoldsBackACharacterUntilItsLastByte()
    {
        int[] ids = [.. Encoding.UTF8.GetBytes("aé日🙂").Select(b => (int)b)]; // 1 + 2 + 3 + 4 bytes
        Assert.Equal(["a", "", "é", "", "", "日", "", "", "", "🙂", ""], Pieces(ids));
    }

    [Fact]
    public void Pieces_OfRandomBytesAndSpecialTokens_ConcatenateToTheWholeDecode()
    {
        var random = new Random(17);
        for (int trial = 0; trial < 50; trial++)
        {
            // Bytes from the multi-byte ranges often, so that invalid and truncated sequences occur.
            int[] ids = [.. Enumerable.Range(0, 40).Select(_ => random.Next(4) == 0 ? random.Next(256) : random.Next(5) == 0 ? 256 : 0x80 + random.Next(0x78))];
            Assert.Equal(Bytes.Decode(ids), string.Concat(Pieces(ids)));
        }
    }
}
