namespace SharpLM.Tests.Tokenization;

/// <summary>
/// Equality of long sequences (hundreds of thousands of ids or pre-tokens): fast where xunit's
/// <c>Assert.Equal</c> on collections is not, and on failure names the first difference.
/// </summary>
public static class SequenceAssert
{
    public static void Equal<T>(IReadOnlyList<T> expected, IReadOnlyList<T> actual)
    {
        var comparer = EqualityComparer<T>.Default;
        int common = Math.Min(expected.Count, actual.Count);
        for (int i = 0; i < common; i++)
        {
            if (!comparer.Equals(expected[i], actual[i]))
            {
                Assert.Fail($"sequences differ at index {i}: expected {Show(expected, i)}, found {Show(actual, i)}");
            }
        }
        if (expected.Count != actual.Count)
        {
            Assert.Fail($"expected {expected.Count} items, found {actual.Count}; the first {common} agree");
        }
    }

    static string Show<T>(IReadOnlyList<T> items, int index) =>
        "[" + string.Join(", ", items.Skip(Math.Max(0, index - 3)).Take(7).Select(item => item is string s ? $"\"{s}\"" : $"{item}")) + "]";
}
