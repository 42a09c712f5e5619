using System.Buffers.Binary;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// Picks the query spans out of an OTLP trace export: logical query spans (attribute
/// <c>nexuscore.query.type</c>) and PostgreSQL client spans (<c>db.system.name</c> or <c>db.system</c> =
/// <c>postgresql</c>). Other spans are only counted. Strings are the parsed message's own; nothing is
/// allocated per span.
/// </summary>
internal static class TracesDecoder
{
    public const string PostgreSql = "postgresql";

    public static SpanBatch Decode(ExportTraceServiceRequest request)
    {
        var querySpans = new List<QuerySpan>();
        var received = 0;
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var (service, _) = OtlpAttributes.ServiceOf(resourceSpans.Resource);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                received += scopeSpans.Spans.Count;
                foreach (var span in scopeSpans.Spans)
                {
                    if (TryRead(span, service, out var querySpan))
                    {
                        querySpans.Add(querySpan);
                    }
                }
            }
        }

        return new SpanBatch(querySpans, received);
    }

    private static bool TryRead(Span span, string service, out QuerySpan querySpan)
    {
        string? queryType = null, collection = null, table = null, operationName = null, operation = null, legacyOperation = null;
        string? dbSystem = null, queryText = null, statement = null;
        bool? cacheHit = null;
        long? rows = null, returnedRows = null;
        foreach (var attribute in span.Attributes)
        {
            var value = attribute.Value;
            switch (attribute.Key)
            {
                case "nexuscore.query.type":
                    queryType = OtlpAttributes.Text(value);
                    break;
                case "db.collection.name":
                    collection = OtlpAttributes.Text(value);
                    break;
                case "nexuscore.table":
                    table = OtlpAttributes.Text(value);
                    break;
                case "db.operation.name":
                    operationName = OtlpAttributes.Text(value);
                    break;
                case "nexuscore.operation":
                    operation = OtlpAttributes.Text(value);
                    break;
                case "db.operation":
                    legacyOperation = OtlpAttributes.Text(value);
                    break;
                case "nexuscore.cache.hit":
                    cacheHit = OtlpAttributes.Bool(value);
                    break;
                case "nexuscore.rows":
                    rows = OtlpAttributes.Int(value);
                    break;
                case "db.response.returned_rows":
                    returnedRows = OtlpAttributes.Int(value);
                    break;
                case "db.system.name":
                case "db.system":
                    dbSystem = OtlpAttributes.Text(value);
                    break;
                case "db.query.text":
                    queryText = OtlpAttributes.Text(value);
                    break;
                case "db.statement":
                    statement = OtlpAttributes.Text(value);
                    break;
            }
        }

        var isPostgres = string.Equals(dbSystem, PostgreSql, StringComparison.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(queryType) && !isPostgres)
        {
            querySpan = default;
            return false;
        }

        querySpan = new QuerySpan
        {
            Service = service,
            QueryType = string.IsNullOrEmpty(queryType) ? null : queryType,
            Table = collection ?? table,
            Operation = operationName ?? operation ?? legacyOperation,

            // Only database client spans feed statement statistics, so a logical span that repeats its
            // child's SQL is not counted twice.
            Statement = isPostgres ? queryText ?? statement : null,
            CacheHit = cacheHit,
            Rows = rows ?? returnedRows,
            StartUnixNanos = (long)Math.Min(span.StartTimeUnixNano, long.MaxValue),
            EndUnixNanos = (long)Math.Min(span.EndTimeUnixNano, long.MaxValue),
            IsError = span.Status?.Code == Status.Types.StatusCode.Error,
            TraceId = TraceId(span.TraceId),
            SpanId = span.SpanId.Length == 8 ? BinaryPrimitives.ReadUInt64BigEndian(span.SpanId.Span) : 0,
        };
        return true;
    }

    private static UInt128 TraceId(ByteString id) => id.Length == 16 ? BinaryPrimitives.ReadUInt128BigEndian(id.Span) : UInt128.Zero;
}
