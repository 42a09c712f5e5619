using Google.Protobuf;
using NexusCore.PerfApi.Features.Otlp.Traces;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Trace.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Otlp.Traces;

[NoStack]
public sealed class DecoderTests
{
    private static readonly DateTimeOffset End = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void LogicalAndPostgresSpansAreKeptWithTheirAttributesAndOtherSpansAreOnlyCounted()
    {
        var logical = Span(End, TimeSpan.FromMilliseconds(12),
            Attribute("nexuscore.query.type", "search"),
            Attribute("db.collection.name", "clients"),
            Attribute("nexuscore.table", "ignored_when_collection_is_set"),
            Attribute("nexuscore.operation", "by_name"),
            Attribute("nexuscore.cache.hit", true),
            Attribute("nexuscore.rows", 25));
        logical.Status = new Status { Code = Status.Types.StatusCode.Error };
        var postgres = Span(End, TimeSpan.FromMilliseconds(3),
            Attribute("db.system.name", "postgresql"),
            Attribute("db.query.text", "SELECT id FROM clients WHERE name ILIKE $1"));
        var http = Span(End, TimeSpan.FromMilliseconds(40), Attribute("http.request.method", "GET"));

        var batch = TracesDecoder.Decode(TraceRequest("clients-api", logical, postgres, http));

        Assert.Equal(3, batch.ReceivedSpans);
        Assert.Equal(2, batch.QuerySpans.Count);
        var search = batch.QuerySpans[0];
        Assert.Equal(("clients-api", "search", "clients", "by_name"), (search.Service, search.QueryType, search.Table, search.Operation));
        Assert.Equal((true, 25L, true), (search.CacheHit, search.Rows, search.IsError));
        Assert.Null(search.Statement);
        Assert.Equal(12_000_000, search.DurationNanos);
        Assert.Equal(Nanos(End), (ulong)search.EndUnixNanos);
        Assert.Equal("0102030405060708090a0b0c0d0e0f10", NexusCore.PerfApi.Store.TraceIds.Format(search.TraceId));
        Assert.Equal("a1a2a3a4a5a6a7a8", NexusCore.PerfApi.Store.TraceIds.Format(search.SpanId));
        var sql = batch.QuerySpans[1];
        Assert.Null(sql.QueryType);
        Assert.Equal("SELECT id FROM clients WHERE name ILIKE $1", sql.Statement);
        Assert.Null(sql.Table);
        Assert.Null(sql.CacheHit);
    }

    [Fact]
    public void OlderSemanticConventionsAndLooselyTypedValuesAreUnderstood()
    {
        var legacy = Span(End, TimeSpan.FromMilliseconds(1),
            Attribute("db.system", "postgresql"),
            Attribute("db.statement", "SELECT 1"),
            Attribute("db.operation", "SELECT"),
            Attribute("nexuscore.cache.hit", "false"),
            Attribute("nexuscore.rows", "7"));
        var otherDatabase = Span(End, TimeSpan.FromMilliseconds(1), Attribute("db.system.name", "redis"), Attribute("db.query.text", "GET x"));
        var request = TraceRequest("clients-api", legacy, otherDatabase);
        request.ResourceSpans.Add(new ResourceSpans { ScopeSpans = { new ScopeSpans { Spans = { Span(End, TimeSpan.Zero, Attribute("nexuscore.query.type", "count")) } } } });

        var batch = TracesDecoder.Decode(request);

        Assert.Equal(3, batch.ReceivedSpans);
        Assert.Equal(2, batch.QuerySpans.Count);
        Assert.Equal(("SELECT 1", "SELECT", false, 7L), (batch.QuerySpans[0].Statement, batch.QuerySpans[0].Operation, batch.QuerySpans[0].CacheHit, batch.QuerySpans[0].Rows));
        Assert.Equal("unknown_service", batch.QuerySpans[1].Service);
    }

    [Fact]
    public void FieldsThisReceiverDoesNotDeclareAreSkippedWhenParsing()
    {
        var bytes = TraceRequest("clients-api", Span(End, TimeSpan.FromMilliseconds(5), Attribute("nexuscore.query.type", "find"))).ToByteArray();

        // Append an event (span field 11) and a parent span id (field 4) to the span the way a full exporter would.
        var withExtras = new ExportTraceServiceRequest();
        withExtras.MergeFrom(bytes);
        var span = withExtras.ResourceSpans[0].ScopeSpans[0].Spans[0];
        var spanBytes = span.ToByteArray().Concat(new byte[] { (11 << 3) | 2, 3, (2 << 3) | 2, 1, (byte)'e', (4 << 3) | 2, 1, 9 }).ToArray();
        var scope = new ScopeSpans();
        var scopeBytes = scope.ToByteArray().Concat(new byte[] { (2 << 3) | 2, (byte)spanBytes.Length }).Concat(spanBytes).ToArray();
        var resourceBytes = new byte[] { (2 << 3) | 2, (byte)scopeBytes.Length }.Concat(scopeBytes).ToArray();
        var requestBytes = new byte[] { (1 << 3) | 2, (byte)resourceBytes.Length }.Concat(resourceBytes).ToArray();

        var parsed = ExportTraceServiceRequest.Parser.WithDiscardUnknownFields(true).ParseFrom(requestBytes);
        var batch = TracesDecoder.Decode(parsed);

        Assert.Equal("find", Assert.Single(batch.QuerySpans).QueryType);
        Assert.Equal(5_000_000, batch.QuerySpans[0].DurationNanos);
    }
}
