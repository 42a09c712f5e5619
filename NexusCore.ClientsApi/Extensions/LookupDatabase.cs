using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using NexusCore.ClientsApi.Database;
using Npgsql;
using NexusCore.ClientsApi.Telemetry;

namespace NexusCore.ClientsApi.Extensions;

/// <summary>
/// The data source ClientsApi reads clients by primary key through (<c>GET /clients/{id}</c> and by-ids):
/// <c>clientsdb</c> with a pool of its own, <c>DB_LOOKUP_POOL_SIZE</c> connections, whose prepared
/// statements Postgres plans once (<see cref="PlanReuse.Generic"/>). Only statements whose best plan no
/// parameter value can change belong here; searches, lists, exports and analytics use the main
/// <see cref="NpgsqlDataSource"/>, planned for each execution's values.
/// By-ids' turns are metrics on the service's meter: gauges <c>nexuscore.db.bulk_lookup.running</c> and
/// <c>.queued</c> (queries holding and waiting for a turn) and the histogram <c>.turn_wait</c> (seconds
/// each waited, 0 when a turn was free; <c>turn.outcome</c> = <c>acquired</c> or <c>timeout</c>).
/// </summary>
public sealed class LookupDatabase : IDisposable
{
    /// <summary>The data source's service key, and its pool's name in Npgsql's metrics.</summary>
    public const string Name = DatabaseOptions.LookupPoolName;

    private static readonly KeyValuePair<string, object?> Acquired = new("turn.outcome", "acquired");
    private static readonly KeyValuePair<string, object?> TimedOut = new("turn.outcome", "timeout");

    private readonly int _bulkConcurrency;
    private readonly TimeSpan _turnTimeout;
    private readonly Histogram<double> _turnWait;

    public LookupDatabase(NpgsqlDataSource source, int bulkConcurrency, TimeSpan turnTimeout, IMeterFactory meters)
    {
        Source = source;
        _bulkConcurrency = bulkConcurrency;
        _turnTimeout = turnTimeout;
        BulkTurns = new(new ConcurrencyLimiterOptions
        {
            PermitLimit = bulkConcurrency,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            // Never refused: the queue is bounded by the requests Kestrel and the rate limiter let in.
            QueueLimit = int.MaxValue,
        });

        var meter = meters.Create(QueryTelemetry.SourceName);
        meter.CreateObservableGauge("nexuscore.db.bulk_lookup.running", () => Turns(s => bulkConcurrency - s.CurrentAvailablePermits),
            "{query}", $"By-ids queries holding a turn (at most {DatabaseOptions.Setting(nameof(DatabaseOptions.BulkLookupConcurrency))})");
        meter.CreateObservableGauge("nexuscore.db.bulk_lookup.queued", () => Turns(s => s.CurrentQueuedCount),
            "{query}", "By-ids queries waiting for a turn");
        _turnWait = meter.CreateHistogram(
            "nexuscore.db.bulk_lookup.turn_wait",
            unit: "s",
            description: "Time a by-ids query waited for its turn; 0 when one was free",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            });
    }

    public NpgsqlDataSource Source { get; }

    /// <summary>
    /// Turns for by-ids queries (up to 1,000 index lookups each, pure CPU once the table is in memory):
    /// at most <c>DB_BULK_LOOKUP_CONCURRENCY</c> run at once, by default one per processor; the others
    /// wait here in arrival order. More of them at once than Postgres has cores only makes them take
    /// turns on a core in the kernel's time slices, milliseconds each, which is what a request's tail
    /// latency then measures. Single-row reads by id do not take a turn. A request waits for its turn
    /// at most <c>DB_CONNECTION_TIMEOUT</c>, as for a pooled connection, and then gets 503 with Retry-After.
    /// </summary>
    public ConcurrencyLimiter BulkTurns { get; }

    /// <summary>
    /// Waits for a turn for one by-ids query (see <see cref="BulkTurns"/>); dispose the lease when the query
    /// has been read. Throws <see cref="TimeoutException"/> (answered 503) when no turn came in time.
    /// </summary>
    public async ValueTask<RateLimitLease> BulkTurnAsync(CancellationToken ct)
    {
        var now = BulkTurns.AttemptAcquire(1);
        if (now.IsAcquired)
        {
            _turnWait.Record(0, Acquired);
            return now;
        }

        now.Dispose();
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_turnTimeout);
        RateLimitLease lease;
        try
        {
            lease = await BulkTurns.AcquireAsync(1, deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            _turnWait.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, TimedOut);
            throw new TimeoutException(
                $"No turn for a by-ids query within {_turnTimeout.TotalSeconds:0.#} s ({DatabaseOptions.Setting(nameof(DatabaseOptions.BulkLookupConcurrency))}: {_bulkConcurrency} at once, the others queued).");
        }

        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new InvalidOperationException("The by-ids queue refused a request, which its unbounded queue never does.");
        }

        _turnWait.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, Acquired);

        return lease;
    }

    public void Dispose() => BulkTurns.Dispose();

    /// <summary>One measurement of the turns' statistics; none once the limiter is disposed (the service stopping).</summary>
    private IEnumerable<Measurement<long>> Turns(Func<RateLimiterStatistics, long> figure)
    {
        RateLimiterStatistics? statistics;
        try
        {
            statistics = BulkTurns.GetStatistics();
        }
        catch (ObjectDisposedException)
        {
            statistics = null;
        }

        return statistics is null ? [] : [new Measurement<long>(figure(statistics))];
    }
}
