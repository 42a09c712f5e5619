using System.Threading.RateLimiting;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace NexusCore.ClientsApi.Extensions;

/// <summary>
/// The data source ClientsApi reads clients by primary key through (<c>GET /clients/{id}</c> and by-ids):
/// <c>clientsdb</c> with a pool of its own, <c>DB_LOOKUP_POOL_SIZE</c> connections, whose prepared
/// statements Postgres plans once (<see cref="PlanReuse.Generic"/>). Only statements whose best plan no
/// parameter value can change belong here; searches, lists, exports and analytics use the main
/// <see cref="NpgsqlDataSource"/>, planned for each execution's values.
/// </summary>
public sealed class LookupDatabase(NpgsqlDataSource source, int bulkConcurrency, TimeSpan turnTimeout) : IDisposable
{
    /// <summary>The data source's service key, and its pool's name in Npgsql's metrics.</summary>
    public const string Name = DatabaseOptions.LookupPoolName;

    public NpgsqlDataSource Source { get; } = source;

    /// <summary>
    /// Turns for by-ids queries (up to 1,000 index lookups each, pure CPU once the table is in memory):
    /// at most <c>DB_BULK_LOOKUP_CONCURRENCY</c> run at once, by default one per processor; the others
    /// wait here in arrival order. More of them at once than Postgres has cores only makes them take
    /// turns on a core in the kernel's time slices, milliseconds each, which is what a request's tail
    /// latency then measures. Single-row reads by id do not take a turn. A request waits for its turn
    /// at most <c>DB_CONNECTION_TIMEOUT</c>, as for a pooled connection, and then gets 503 with Retry-After.
    /// </summary>
    public ConcurrencyLimiter BulkTurns { get; } = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = bulkConcurrency,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        // Never refused: the queue is bounded by the requests Kestrel and the rate limiter let in.
        QueueLimit = int.MaxValue,
    });

    /// <summary>
    /// Waits for a turn for one by-ids query (see <see cref="BulkTurns"/>); dispose the lease when the query
    /// has been read. Throws <see cref="TimeoutException"/> (answered 503) when no turn came in time.
    /// </summary>
    public async ValueTask<RateLimitLease> BulkTurnAsync(CancellationToken ct)
    {
        var now = BulkTurns.AttemptAcquire(1);
        if (now.IsAcquired)
        {
            return now;
        }

        now.Dispose();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(turnTimeout);
        RateLimitLease lease;
        try
        {
            lease = await BulkTurns.AcquireAsync(1, deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"No turn for a by-ids query within {turnTimeout.TotalSeconds:0.#} s ({DatabaseOptions.BulkLookupConcurrencySetting}: {bulkConcurrency} at once, the others queued).");
        }

        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new InvalidOperationException("The by-ids queue refused a request, which its unbounded queue never does.");
        }

        return lease;
    }

    public void Dispose() => BulkTurns.Dispose();
}
