using Microsoft.Extensions.Options;
using Npgsql;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// Deletes the rows of <c>perf.query_hours</c> and <c>perf.query_minutes</c> older than
/// <see cref="HistoryOptions.Retention"/> (an hour once it ended before the cutoff), at start and every
/// <see cref="HistoryOptions.RetentionInterval"/>, in DELETEs of at most <see cref="HistoryOptions.RetentionBatchRows"/>
/// rows each (its own short transaction), so no sweep holds locks or bloats WAL in one go. Minutes are otherwise
/// removed by compaction (<see cref="HistoryCompactor"/>); the ones left this old are hours compaction never reached.
/// </summary>
public sealed partial class HistoryRetention(
    NpgsqlDataSource db,
    IOptions<HistoryOptions> options,
    HistoryCounters counters,
    TimeProvider time,
    ILogger<HistoryRetention> logger) : BackgroundService
{
    private const string DeleteMinutesSql = """
        DELETE FROM perf.query_minutes
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM perf.query_minutes WHERE minute < $1 LIMIT $2))
        """;

    private const string DeleteHoursSql = """
        DELETE FROM perf.query_hours
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM perf.query_hours WHERE hour < $1 LIMIT $2))
        """;

    /// <summary>Deletes every row older than the retention, batch by batch; the rows each DELETE removed, in order.</summary>
    public async Task<RetentionSweep> SweepAsync(CancellationToken ct)
    {
        var cutoff = time.GetUtcNow() - options.Value.Retention;
        // An hour is kept while any of it is within the retention.
        var hours = await SweepAsync(DeleteHoursSql, cutoff - TimeSpan.FromHours(1), ct);
        return new RetentionSweep(hours, await SweepAsync(DeleteMinutesSql, cutoff, ct));
    }

    private async Task<IReadOnlyList<int>> SweepAsync(string sql, DateTimeOffset cutoff, CancellationToken ct)
    {
        var settings = options.Value;
        var batches = new List<int>();
        while (true)
        {
            await using var command = db.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoff });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = settings.RetentionBatchRows });
            var deleted = await command.ExecuteNonQueryAsync(ct);
            batches.Add(deleted);
            counters.Deleted(deleted);
            if (deleted < settings.RetentionBatchRows)
            {
                return batches;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var sweep = await SweepAsync(stoppingToken);
                var rows = sweep.HourBatches.Sum() + sweep.MinuteBatches.Sum();
                if (rows > 0)
                {
                    LogSwept(rows, sweep.HourBatches.Count + sweep.MinuteBatches.Count);
                }
            }
            catch (NpgsqlException ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed((ex as PostgresException)?.SqlState ?? ex.GetType().Name);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await Task.Delay(options.Value.RetentionInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "History retention deleted {Rows} row(s) in {Statements} statement(s)")]
    private partial void LogSwept(int rows, int statements);

    [LoggerMessage(Level = LogLevel.Warning, Message = "History retention failed ({Reason}); retried at the next interval")]
    private partial void LogSweepFailed(string reason);
}

/// <summary>What one retention sweep deleted: the rows of each DELETE, hours' and minutes' (the last of each short).</summary>
public sealed record RetentionSweep(IReadOnlyList<int> HourBatches, IReadOnlyList<int> MinuteBatches);
