using Microsoft.Extensions.Options;
using Npgsql;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// Compacts closed hours: every <see cref="HistoryOptions.CompactionInterval"/> (the first time at start) it takes the
/// oldest hours that ended at least <see cref="HistoryOptions.MinuteRetention"/> ago and still hold minute rows, at
/// most <see cref="HistoryOptions.CompactionHoursPerPass"/> of them, and replaces each hour's minutes of
/// <c>perf.query_minutes</c> with one row per key in <c>perf.query_hours</c>, so a long window reads hours.
/// </summary>
/// <remarks>
/// Each hour is one transaction: <c>DELETE … RETURNING</c> takes the hour's minutes (merged here as they stream in,
/// with <see cref="ExponentialHistogram.Add"/>, the merge every reader uses), one binary COPY writes the merged rows,
/// then it commits. So a query is in exactly one of the two tables at every snapshot; a pass cut short (a crash, a
/// restart, a lost connection) rolls back whole and the next one does the same hour again; a second compactor running
/// at the same time waits on the first one's row locks and then finds the minutes gone, so nothing is counted twice.
/// Minutes that reach an hour after it was compacted stay minutes until the next pass, which adds a second row for
/// that hour: rows are additive, the reader merges them. No row is ever updated (PerfApi's role has no UPDATE).
/// Memory: one histogram per key of the hour being compacted.
/// </remarks>
public sealed partial class HistoryCompactor(
    NpgsqlDataSource db,
    IOptions<HistoryOptions> options,
    HistoryCounters counters,
    TimeProvider time,
    ILogger<HistoryCompactor> logger) : BackgroundService
{
    // The oldest minute of an hour due for compaction (the minute index makes it one index probe).
    private const string OldestSql = "SELECT min(minute) FROM perf.query_minutes WHERE minute >= $1 AND minute < $2";

    private const string TakeSql = """
        DELETE FROM perf.query_minutes
        WHERE minute >= $1 AND minute < $2
        RETURNING service, table_name, operation, query_type, cache_hit, count, sum, min, max, errors,
                  scale, zero_count, bucket_offset, bucket_counts
        """;

    private const string CopyCommand = """
        COPY perf.query_hours (hour, service, table_name, operation, query_type, cache_hit, count, sum, min, max,
                               errors, scale, zero_count, bucket_offset, bucket_counts)
        FROM STDIN (FORMAT BINARY)
        """;

    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>The UTC clock hour <paramref name="time"/> is in.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerHour, TimeSpan.Zero);
    }

    /// <summary>
    /// Hours before this are due: they ended at least <see cref="HistoryOptions.MinuteRetention"/> ago (so no range
    /// read per minute reaches them).
    /// </summary>
    public DateTimeOffset DueBefore => HourOf(time.GetUtcNow() - options.Value.MinuteRetention);

    /// <summary>
    /// One pass: compacts the oldest due hours that still hold minutes, at most
    /// <see cref="HistoryOptions.CompactionHoursPerPass"/>, oldest first. Minutes older than
    /// <see cref="HistoryOptions.Retention"/> are left to retention.
    /// </summary>
    public async Task<IReadOnlyList<CompactedHour>> CompactAsync(CancellationToken ct)
    {
        var settings = options.Value;
        var before = DueBefore;
        var from = time.GetUtcNow() - settings.Retention;
        var done = new List<CompactedHour>();
        var tried = 0;
        while (tried < settings.CompactionHoursPerPass)
        {
            await using var oldest = db.CreateCommand(OldestSql);
            oldest.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
            oldest.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = before });
            if (await oldest.ExecuteScalarAsync(ct) is not DateTime minute)
            {
                break;
            }

            var hour = HourOf(new DateTimeOffset(DateTime.SpecifyKind(minute, DateTimeKind.Utc)));
            tried++;
            try
            {
                done.Add(await CompactHourAsync(hour, ct));
            }
            catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal))
            {
                // Postgres refused the merged values (rolled back: the minutes stay minutes and are still read). Retrying
                // cannot help, so the pass goes on with the next hour rather than stopping at this one for ever.
                counters.CompactionFailed();
                LogHourRefused(hour, ex.SqlState);
            }

            from = hour + Hour;
        }

        return done;
    }

    /// <summary>Moves the minutes of <paramref name="hour"/> (a clock hour) into hour rows, in one transaction.</summary>
    public async Task<CompactedHour> CompactHourAsync(DateTimeOffset hour, CancellationToken ct)
    {
        if (hour != HourOf(hour))
        {
            throw new ArgumentException("An hour starts on a clock hour.", nameof(hour));
        }

        var merged = new Dictionary<RollupKey, (ExponentialHistogram Durations, long Errors)>();
        long minutes = 0;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var take = new NpgsqlCommand(TakeSql, connection, transaction))
        {
            take.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = hour });
            take.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = hour + Hour });
            await using var reader = await take.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                minutes++;
                var key = new RollupKey(
                    reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetBoolean(4));
                var (durations, errors) = merged.TryGetValue(key, out var entry) ? entry : (new ExponentialHistogram(), 0L);
                durations.Add(
                    reader.GetInt16(10),
                    reader.GetInt64(11),
                    reader.GetInt32(12),
                    reader.GetFieldValue<long[]>(13),
                    reader.GetInt64(5),
                    reader.GetDouble(6),
                    reader.IsDBNull(7) ? double.PositiveInfinity : reader.GetDouble(7),
                    reader.IsDBNull(8) ? double.NegativeInfinity : reader.GetDouble(8));
                merged[key] = (durations, errors + reader.GetInt64(9));
            }
        }

        var rows = merged.Where(m => m.Value.Durations.Count > 0 || m.Value.Errors > 0).ToList();
        if (rows.Count > 0)
        {
            await using var copy = await connection.BeginBinaryImportAsync(CopyCommand, ct);
            foreach (var (key, (durations, errors)) in rows)
            {
                await HistoryWriter.WriteRowAsync(copy, hour, key, durations, errors, ct, packed: true);
            }

            await copy.CompleteAsync(ct);
        }

        await transaction.CommitAsync(ct);
        counters.Compacted(minutes, rows.Count);
        return new CompactedHour(hour, minutes, rows.Count);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var hours = await CompactAsync(stoppingToken);
                if (hours.Count > 0)
                {
                    LogCompacted(hours.Count, hours.Sum(h => h.MinuteRows), hours.Sum(h => h.HourRows), hours[0].Hour, hours[^1].Hour);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                // The hour being compacted rolled back whole: its minutes are still minutes, the next pass retries.
                counters.CompactionFailed();
                LogCompactionFailed((ex as PostgresException)?.SqlState ?? ex.GetType().Name);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await Task.Delay(options.Value.CompactionInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "History compaction merged {MinuteRows} minute row(s) of {Hours} hour(s) into {HourRows} hour row(s) ({First:o} to {Last:o})")]
    private partial void LogCompacted(int hours, long minuteRows, int hourRows, DateTimeOffset first, DateTimeOffset last);

    [LoggerMessage(Level = LogLevel.Error, Message = "Postgres refused the merged rows of hour {Hour:o} ({SqlState}); its minutes are kept as they are")]
    private partial void LogHourRefused(DateTimeOffset hour, string sqlState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "History compaction failed ({Reason}); the hour was rolled back and is retried at the next pass")]
    private partial void LogCompactionFailed(string reason);
}

/// <param name="Hour">The clock hour compacted.</param>
/// <param name="MinuteRows">Minute rows taken (deleted) from <c>perf.query_minutes</c>.</param>
/// <param name="HourRows">Rows written to <c>perf.query_hours</c>: one per key that had a query or an error.</param>
public sealed record CompactedHour(DateTimeOffset Hour, long MinuteRows, int HourRows);
