namespace NexusCore.PerfApi.Store;

/// <summary>What a query span is filed under (slow span samples): the service that ran it, the table, the operation and the query type.</summary>
public readonly record struct QueryKey(string Service, string Table, string Operation, string QueryType)
{
    /// <summary>Stands for a table or operation a span or a metric point did not name and its SQL did not reveal.</summary>
    public const string Unknown = "unknown";

    /// <summary>The query type of plain database client spans (no <c>nexuscore.query.type</c>).</summary>
    public const string SqlQueryType = "sql";
}

internal static class Nanoseconds
{
    public static double ToMs(double nanos) => nanos / 1_000_000d;
}
