namespace SharpLM.Accounting;

/// <summary>
/// One row of a cost breakdown: a model component, what one instance of it costs (parameters, activation elements or
/// FLOPs) and how many instances there are: num_layers for a part of every Transformer block, 1 otherwise.
/// </summary>
/// <exception cref="OverflowException">From <see cref="Total"/>, when the product exceeds 64 bits.</exception>
public sealed record ComponentCost(string Component, long Each, int Times = 1)
{
    public long Total => checked(Each * Times);

    /// <summary>The sum of the rows' totals.</summary>
    /// <exception cref="OverflowException">The sum exceeds 64 bits.</exception>
    public static long Sum(IEnumerable<ComponentCost> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        long sum = 0;
        foreach (var row in rows)
        {
            sum = checked(sum + row.Total);
        }
        return sum;
    }
}
