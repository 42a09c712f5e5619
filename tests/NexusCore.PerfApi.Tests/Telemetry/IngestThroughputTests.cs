using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Features.Otlp.Traces;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using Xunit.Abstractions;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Telemetry;

/// <summary>
/// A small, untimed benchmark: it asserts only that every span is counted, and prints the rate at which one
/// thread checks the receiver's limits on, parses, decodes and aggregates OTLP payloads (the work PerfApi does per
/// payload, minus HTTP and gzip).
/// Run it with <c>dotnet test tests/NexusCore.PerfApi.Tests -c Release --filter IngestThroughput --logger "console;verbosity=detailed"</c>.
/// </summary>
[NoStack]
public sealed class IngestThroughputTests(ITestOutputHelper output)
{
    private const int Payloads = 200;
    private const int SpansPerPayload = 1000;
    private static readonly MessageParser<ExportTraceServiceRequest> Parser = ExportTraceServiceRequest.Parser.WithDiscardUnknownFields(true);
    private static readonly OtlpReceiverOptions Limits = new();
    private static readonly string[] QueryTypes = ["count", "find", "search", "analytics", "write"];
    private static readonly string[] Statements = Enumerable.Range(0, 20)
        .Select(i => $"SELECT id, name, email, status, program_type FROM clients WHERE status = $1 AND column_{i} > $2 ORDER BY id LIMIT 50")
        .ToArray();

    [Fact]
    public void TwoHundredThousandSpansAreDecodedAndAggregatedOnOneThreadWithExactCounts()
    {
        var now = DateTimeOffset.UtcNow;
        var bodies = Enumerable.Range(0, Payloads).Select(p => Payload(p, now).ToByteArray()).ToArray();
        Ingest(NewStore(), bodies.Take(10));

        var store = NewStore();
        var started = Stopwatch.GetTimestamp();
        var (received, checking) = Ingest(store, bodies);
        var elapsed = Stopwatch.GetElapsedTime(started);

        var spans = Payloads * SpansPerPayload;
        output.WriteLine(
            $"{spans:N0} spans ({bodies.Sum(b => (long)b.Length) / 1024:N0} KiB of protobuf) checked, parsed, decoded and aggregated in " +
            $"{elapsed.TotalMilliseconds:N0} ms on one thread: {spans / elapsed.TotalSeconds:N0} spans/s; the limits check took " +
            $"{checking.TotalMilliseconds:N0} ms of it ({100 * checking / elapsed:N1} %)");

        // Per payload of 1000: 500 logical query spans, 300 PostgreSQL spans, 200 HTTP spans that are only counted.
        Assert.Equal(spans, received);
        Assert.Equal(Payloads * 800, store.Counters.Snapshot().QuerySpansAggregated);
        var statements = store.Statements.List(new StatementQuery(TimeSpan.FromHours(1), Limit: 100));
        Assert.Equal(20, statements.Count);
        Assert.Equal(Payloads * 300, statements.Sum(s => s.Count));
    }

    private static TelemetryStore NewStore() =>
        new(Options.Create(new TelemetryStoreOptions()), TimeProvider.System, new TelemetryCounters());

    private static (long Received, TimeSpan Checking) Ingest(TelemetryStore store, IEnumerable<byte[]> bodies)
    {
        long received = 0;
        var checking = TimeSpan.Zero;
        foreach (var body in bodies)
        {
            var started = Stopwatch.GetTimestamp();
            var shape = OtlpLimits.Check(body, OtlpSignal.Traces, Limits);
            checking += Stopwatch.GetElapsedTime(started);
            Assert.Null(shape.Problem);
            var request = Parser.ParseFrom(body);
            if (shape.HasLongStrings)
            {
                OtlpTruncation.Apply(request, Limits);
            }

            var batch = TracesDecoder.Decode(request);
            store.Apply(batch);
            received += batch.ReceivedSpans;
        }

        return (received, checking);
    }

    private static ExportTraceServiceRequest Payload(int payload, DateTimeOffset now)
    {
        var spans = new OpenTelemetry.Proto.Trace.V1.Span[SpansPerPayload];
        for (var i = 0; i < SpansPerPayload; i++)
        {
            var n = (payload * SpansPerPayload) + i;
            var end = now.AddMilliseconds(-(n % 60_000));
            var duration = TimeSpan.FromMicroseconds(200 + (n * 37 % 50_000));
            spans[i] = (i % 10) switch
            {
                < 5 => Span(end, duration,
                    Attribute("nexuscore.query.type", QueryTypes[n % QueryTypes.Length]),
                    Attribute("db.collection.name", n % 3 == 0 ? "programs" : "clients"),
                    Attribute("db.operation.name", n % 2 == 0 ? "by_id" : "list"),
                    Attribute("nexuscore.cache.hit", n % 4 == 0),
                    Attribute("nexuscore.rows", n % 50),
                    Attribute("code.function.name", "Handle")),
                < 8 => Span(end, duration,
                    Attribute("db.system.name", "postgresql"),
                    Attribute("db.namespace", "clientsdb"),
                    Attribute("db.query.text", Statements[n / 10 % Statements.Length]),
                    Attribute("server.address", "localhost"),
                    Attribute("server.port", 5432)),
                _ => Span(end, duration,
                    Attribute("http.request.method", "GET"),
                    Attribute("url.path", "/api/v1/clients"),
                    Attribute("http.response.status_code", 200)),
            };
            spans[i].TraceId = ByteString.CopyFrom(BitConverter.GetBytes((long)n).Concat(BitConverter.GetBytes((long)payload)).ToArray());
        }

        var request = TraceRequest("clients-api", spans);
        request.ResourceSpans[0].Resource.Attributes.Add(new KeyValue { Key = "service.instance.id", Value = new AnyValue { StringValue = "a1b2" } });
        return request;
    }
}
