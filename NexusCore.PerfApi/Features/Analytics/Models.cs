using FastEndpoints;
using FluentValidation;
using NexusCore.PerfApi.Contract;

namespace NexusCore.PerfApi.Features.Analytics;

/// <param name="Window">How far back: <c>5m</c>, <c>15m</c>, <c>1h</c> (whole one-minute roll-ups ending with the current one), <c>24h</c> or <c>7d</c> (read from history).</param>
public sealed record Request([property: QueryParam] string Window = "5m");

public sealed class Validator : Validator<Request>
{
    public Validator() =>
        RuleFor(r => r.Window).OneOf(TimeWindow.NamesWithHistory)
            .WithMessage($"window must be one of: {string.Join(", ", TimeWindow.NamesWithHistory)}.").WithErrorCode("window_unknown");
}

/// <param name="Window">The window asked for: <c>5m</c>, <c>15m</c>, <c>1h</c>, <c>24h</c> or <c>7d</c>.</param>
/// <param name="PointSeconds">Width of one time-series point: a roll-up (<c>Telemetry:HistogramWidth</c>, 1 min) up to <c>1h</c>, an hour for <c>24h</c>, six hours for <c>7d</c>.</param>
/// <param name="RateSeconds">What throughput is divided by: the window, or the time since the oldest minute history keeps (PerfApi's uptime without history) when shorter.</param>
public sealed record Response(
    string Window,
    double WindowSeconds,
    double PointSeconds,
    double RateSeconds,
    DateTimeOffset GeneratedAt,
    IReadOnlyList<Series> Series)
{
    /// <summary>What the OpenAPI document shows as a 200 answer.</summary>
    internal static readonly Response Example = new("5m", 300, 60, 300, new DateTimeOffset(2026, 12, 7, 12, 5, 0, TimeSpan.Zero),
    [
        new Series("clients-api", "clients", "SELECT", "find", 412, 1.37, 2.1, 48.0, 0.4, 9.8, 31.2, 380, 32, 92.2, 0,
            new DateTimeOffset(2026, 12, 7, 12, 4, 0, TimeSpan.Zero),
            [new Exemplar("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 47.9, new DateTimeOffset(2026, 12, 7, 12, 3, 12, TimeSpan.Zero))],
            [new Point(new DateTimeOffset(2026, 12, 7, 12, 4, 0, TimeSpan.Zero), 84, 1.9, 12.0, 0, 8.7)]),
    ]);
}

/// <summary>One (service, table, operation, query type) over the window.</summary>
/// <param name="QueryType">count, find, search, analytics, write…</param>
/// <param name="MaxMs">Exact when the sender exports deltas; within one histogram bucket (2.2 %) of it when cumulative.</param>
/// <param name="P50Ms">Percentiles are within 2.2 % (the histogram's bucket error at scale 4) of the exact nearest-rank value.</param>
/// <param name="CacheHitRatePercent">Null when no query of the series looked the cache up.</param>
/// <param name="Exemplars">Up to five traces of the window's slowest queries that carried one, slowest first.</param>
public sealed record Series(
    string Service,
    string Table,
    string Operation,
    string QueryType,
    long Count,
    double ThroughputPerSecond,
    double MeanMs,
    double MaxMs,
    double? P50Ms,
    double? P95Ms,
    double? P99Ms,
    long CacheHits,
    long CacheMisses,
    double? CacheHitRatePercent,
    long Errors,
    DateTimeOffset LastSeen,
    IReadOnlyList<Exemplar> Exemplars,
    IReadOnlyList<Point> TimeSeries);

/// <summary>A query the sender kept with its trace: open <see cref="TraceId"/> in the Aspire dashboard.</summary>
public sealed record Exemplar(string TraceId, string? SpanId, double DurationMs, DateTimeOffset At);

/// <summary>One roll-up of a series' time series; <see cref="P95Ms"/> null where nothing ran.</summary>
public sealed record Point(DateTimeOffset Start, long Count, double MeanMs, double MaxMs, long Errors, double? P95Ms);
