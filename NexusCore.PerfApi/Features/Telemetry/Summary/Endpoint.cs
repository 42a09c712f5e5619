using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;

namespace NexusCore.PerfApi.Features.Telemetry.Summary;

/// <summary>
/// <c>GET /api/v1/performance/telemetry/summary</c> (reader): counts of what the OTLP receiver took in, aggregated and
/// dropped, and how full the store is, so an operator can tell whether telemetry flows.
/// </summary>
public sealed class Endpoint(
    TelemetryStore store,
    TelemetryIngestQueue queue,
    IOptions<TelemetryStoreOptions> options,
    HistoryWriter history,
    HistoryCounters historyCounters,
    IOptions<HistoryOptions> historyOptions)
    : Endpoint<EmptyRequest, Response>
{
    public override void Configure()
    {
        Get("telemetry/summary");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("getTelemetrySummary").ClearDefaultProduces().Produces<Response>().ProducesProblems(OpenApiDescriptions.KeyedRoute));
        Summary(s =>
        {
            s.Summary = "What the OTLP receiver has ingested and dropped";
            s.RateLimited();
        });
    }

    public override async Task HandleAsync(EmptyRequest request, CancellationToken ct)
    {
        var counts = store.Counters.Snapshot();
        var settings = options.Value;
        await Send.OkAsync(
            new Response(
                store.StartedAt,
                counts.LastPayloadAt,
                new PayloadCounts(
                    counts.PayloadsAccepted,
                    counts.PayloadsMalformed,
                    counts.PayloadsTooLarge,
                    counts.PayloadsUnsupportedMediaType,
                    counts.PayloadsOverItemLimit,
                    counts.PayloadsBusy,
                    counts.PayloadsTooSlow,
                    counts.PayloadsTruncated),
                new SpanCounts(
                    counts.SpansReceived,
                    counts.QuerySpansQueued,
                    counts.QuerySpansAggregated,
                    counts.QuerySpansDropped,
                    counts.QuerySpansTooOld,
                    counts.QuerySeriesEvicted,
                    counts.StatementsEvicted),
                new MetricPointCounts(
                    counts.MetricPointsReceived,
                    counts.MetricPointsQueued,
                    counts.MetricPointsAggregated,
                    counts.MetricPointsDropped,
                    counts.MetricPointsUnsupported,
                    counts.MetricPointsNonFinite,
                    counts.MetricPointsTooOld,
                    counts.MetricSeriesEvicted),
                new StoreState(
                    store.Rollups.Count,
                    settings.MaxQuerySeries,
                    store.Statements.Count,
                    settings.MaxStatements,
                    store.Metrics.Count,
                    settings.MaxMetricSeries,
                    queue.Pending,
                    queue.Capacity,
                    settings.BucketWidth.TotalSeconds,
                    settings.Retention.TotalSeconds),
                new HistoryState(historyCounters.Snapshot(), historyOptions.Value.MaxBacklogRows, history.PersistedBefore)),
            ct);
    }
}
