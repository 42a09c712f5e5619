using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>PostgreSQL spans carrying chosen statement texts, sent to PerfApi's OTLP receiver with the ingest key, as anyone holding it can.</summary>
internal static class StatementSpans
{
    /// <summary>
    /// Sends <paramref name="runs"/> spans of <paramref name="duration"/> for each statement, as
    /// <paramref name="service"/>, and waits until PerfApi has aggregated them.
    /// </summary>
    public static async Task SendAsync(PerfApiStack stack, string service, IReadOnlyList<string> statements, int runs, TimeSpan duration)
    {
        var ingest = stack.CreateClient("perf-api", "ingest");
        var reader = new PerfApiClient(stack);
        var before = await AggregatedAsync(reader);
        var now = DateTimeOffset.UtcNow;
        var spans = statements.SelectMany(sql => Enumerable.Range(0, runs).Select(_ => Span(now, duration,
            Attribute("db.system", "postgresql"),
            Attribute("db.system.name", "postgresql"),
            Attribute("db.query.text", sql),
            Attribute("db.operation.name", "SELECT")))).ToArray();
        using var content = new ByteArrayContent(TraceRequest(service, spans).ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");

        var response = await ingest.PostAsync("/v1/traces", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.ThatAsync(async () => await AggregatedAsync(reader) >= before + spans.Length, TimeSpan.FromSeconds(15), "the spans to be aggregated", TimeSpan.FromMilliseconds(100));
    }

    private static async Task<long> AggregatedAsync(PerfApiClient reader) =>
        (await reader.GetAsync("/api/v1/performance/telemetry/summary")).GetProperty("spans").Long("aggregated");
}
