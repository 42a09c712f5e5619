using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Sql;
using NexusCore.PerfApi.Store;
namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// A span that describes a query, as decoded from OTLP: either a logical query (it has
/// <c>nexuscore.query.type</c>) or a plain PostgreSQL client span. The strings are the parsed message's own.
/// </summary>
public readonly record struct QuerySpan
{
    public required string Service { get; init; }

    /// <summary><c>nexuscore.query.type</c> (count, find, search, analytics, write); null for a plain database span.</summary>
    public string? QueryType { get; init; }

    public string? Table { get; init; }

    public string? Operation { get; init; }

    /// <summary>The SQL text as sent (<c>db.query.text</c> or <c>db.statement</c>), normalized by the store.</summary>
    public string? Statement { get; init; }

    public bool? CacheHit { get; init; }

    public long? Rows { get; init; }

    public long StartUnixNanos { get; init; }

    public long EndUnixNanos { get; init; }

    public bool IsError { get; init; }

    public UInt128 TraceId { get; init; }

    public ulong SpanId { get; init; }

    public long DurationNanos => Math.Max(0, EndUnixNanos - StartUnixNanos);
}

/// <summary>What one OTLP trace payload brought: how many spans in all, and the query spans among them.</summary>
public sealed class SpanBatch(IReadOnlyList<QuerySpan> querySpans, int receivedSpans)
{
    public IReadOnlyList<QuerySpan> QuerySpans { get; } = querySpans;

    public int ReceivedSpans { get; } = receivedSpans;
}
