using System.Text;

namespace SharpLM.Tokenization;

/// <summary>
/// The vocabulary that BPE training grows: ids 0-255 are the bytes, then the special tokens, then merged tokens.
/// A token is identified by its bytes, as in the handout's tuples of <c>bytes</c>: when two different merges
/// produce the same byte string they produce the same token, so vocab.json (which keys tokens by their text)
/// can represent every trained vocabulary.
/// </summary>
internal sealed class TrainingVocabulary
{
    readonly List<byte[]> _bytesOfId = [];
    readonly Dictionary<byte[], int> _idOfBytes = new(ByteStringComparer.Instance);
    readonly List<BpeMerge> _merges = [];
    readonly IReadOnlyList<string> _specialTokens;

    public TrainingVocabulary(IReadOnlyList<string> specialTokens)
    {
        for (int b = 0; b < 256; b++)
        {
            Add([(byte)b]);
        }
        foreach (string special in specialTokens)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(special);
            if (!_idOfBytes.ContainsKey(bytes))
            {
                Add(bytes);
            }
        }
        _specialTokens = specialTokens;
    }

    public int Count => _bytesOfId.Count;

    public int MergeCount => _merges.Count;

    public byte[] BytesOf(int id) => _bytesOfId[id];

    /// <summary>Records the merge of <paramref name="left"/> and <paramref name="right"/>; returns the id of the result.</summary>
    public int Merge(int left, int right)
    {
        byte[] merged = [.. _bytesOfId[left], .. _bytesOfId[right]];
        _merges.Add(new BpeMerge(_bytesOfId[left], _bytesOfId[right]));
        return _idOfBytes.TryGetValue(merged, out int id) ? id : Add(merged);
    }

    /// <summary>Orders pairs as the handout breaks ties: the lexicographically greater (left, right) byte strings win.</summary>
    public int ComparePairs(int left1, int right1, int left2, int right2)
    {
        int byLeft = _bytesOfId[left1].AsSpan().SequenceCompareTo(_bytesOfId[left2]);
        return byLeft != 0 ? byLeft : _bytesOfId[right1].AsSpan().SequenceCompareTo(_bytesOfId[right2]);
    }

    public BpeTrainingResult ToResult()
    {
        var vocabulary = new Dictionary<int, byte[]>(_bytesOfId.Count);
        for (int id = 0; id < _bytesOfId.Count; id++)
        {
            vocabulary.Add(id, _bytesOfId[id]);
        }
        return new BpeTrainingResult(vocabulary, [.. _merges], [.. _specialTokens]);
    }

    int Add(byte[] bytes)
    {
        int id = _bytesOfId.Count;
        _bytesOfId.Add(bytes);
        _idOfBytes.Add(bytes, id);
        return id;
    }
}
