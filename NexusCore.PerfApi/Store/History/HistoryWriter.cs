using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// Persists the in-memory store's minute roll-ups in <c>perf.query_minutes</c>, off the request path: every
/// <see cref="HistoryOptions.FlushInterval"/> it takes the minutes that ended at least <see cref="HistoryOptions.Grace"/>
/// ago from <see cref="IQueryRollupSource"/> and writes them in batches of at most <see cref="HistoryOptions.MaxBatchRows"/>
/// rows, each one binary COPY (one round trip). At shutdown it takes the open minutes too and writes what it can.
/// </summary>
/// <remarks>
/// Rows are additive (the reader merges rows of one key and minute), so the part of a minute written at shutdown and
/// the part the next run writes add up. While Postgres does not answer, roll-ups wait in a backlog of at most
/// <see cref="HistoryOptions.MaxBacklogRows"/> rows (the oldest beyond it are dropped and counted) and writes are
/// retried with a doubling delay up to <see cref="HistoryOptions.MaxRetryDelay"/>. A batch Postgres refuses for its
/// values is dropped and counted, never retried (it would fail forever). A write whose connection breaks after the
/// server committed is retried and counted twice: the one case where history can over-count.
/// </remarks>
public sealed partial class HistoryWriter : BackgroundService
{
    /// <summary>Longest text kept per key part; ingest caps attribute strings earlier, this is the table's own guard.</summary>
    public const int MaxKeyLength = 256;

    private const string CopyCommand = """
        COPY perf.query_minutes (minute, service, table_name, operation, query_type, cache_hit, count, sum, min, max,
                                 errors, scale, zero_count, bucket_offset, bucket_counts)
        FROM STDIN (FORMAT BINARY)
        """;

    private readonly NpgsqlDataSource _db;
    private readonly IQueryRollupSource _source;
    private readonly HistoryOptions _options;
    private readonly HistoryCounters _counters;
    private readonly TimeProvider _time;
    private readonly ILogger<HistoryWriter> _logger;
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _backlog = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private long _sequence;
    private long _passes;
    private DateTimeOffset _taken;

    public HistoryWriter(
        NpgsqlDataSource db,
        IQueryRollupSource source,
        IOptions<HistoryOptions> options,
        HistoryCounters counters,
        TimeProvider time,
        ILogger<HistoryWriter> logger)
    {
        _db = db;
        _source = source;
        _options = options.Value;
        _counters = counters;
        _time = time;
        _logger = logger;
        StartedAt = time.GetUtcNow();
        // Memory starts empty: nothing before this run's first minute is this run's to write.
        _taken = MinuteOf(StartedAt);
    }

    /// <summary>When this run started (the writer is created with the host).</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>
    /// Every minute before this is in Postgres as far as this run is concerned (written, or never this run's); from it
    /// on, minutes are only in memory (taken and waiting in the backlog, or not taken yet).
    /// </summary>
    public DateTimeOffset PersistedBefore
    {
        get
        {
            lock (_gate)
            {
                var first = _taken;
                foreach (var pending in _backlog)
                {
                    if (pending.Rollup.Minute < first)
                    {
                        first = pending.Rollup.Minute;
                    }
                }

                return first;
            }
        }
    }

    /// <summary>Whether this run has written a row yet (before, every row in Postgres is an earlier run's).</summary>
    public bool HasWritten { get; private set; }

    /// <summary>Passes of the background loop so far (each takes what has closed and writes the backlog).</summary>
    internal long Passes => Interlocked.Read(ref _passes);

    /// <summary>Roll-ups waiting to be written.</summary>
    public int Backlog
    {
        get
        {
            lock (_gate)
            {
                return _backlog.Count;
            }
        }
    }

    public static DateTimeOffset MinuteOf(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
    }

    /// <summary>Takes the roll-ups of the minutes in [last taken, <paramref name="before"/>) from memory into the backlog.</summary>
    public void Collect(DateTimeOffset before)
    {
        int dropped;
        int count;
        lock (_gate)
        {
            if (before <= _taken)
            {
                return;
            }

            // Taken and queued under one lock: PersistedBefore never passes a minute that is neither in Postgres nor
            // waiting. In minute order, so that the backlog is too and every row written is older than every row
            // still waiting.
            var taken = _source.Rollups(_taken, before).OrderBy(r => r.Minute).ToList();
            _taken = before;
            dropped = EnqueueLocked(taken);
            count = _backlog.Count;
        }

        Enqueued(dropped, count);
    }

    /// <summary>Adds roll-ups to the backlog; beyond <see cref="HistoryOptions.MaxBacklogRows"/> the oldest are dropped (counted).</summary>
    public void Enqueue(IEnumerable<MinuteRollup> rollups)
    {
        int dropped;
        int count;
        lock (_gate)
        {
            dropped = EnqueueLocked(rollups);
            count = _backlog.Count;
        }

        Enqueued(dropped, count);
    }

    private int EnqueueLocked(IEnumerable<MinuteRollup> rollups)
    {
        var dropped = 0;
        foreach (var rollup in rollups)
        {
            _backlog.Enqueue(new Pending(++_sequence, rollup));
            if (_backlog.Count > _options.MaxBacklogRows)
            {
                _backlog.Dequeue();
                dropped++;
            }
        }

        return dropped;
    }

    private void Enqueued(int dropped, int count)
    {
        if (dropped > 0)
        {
            _counters.DroppedBacklogFull(dropped);
            LogBacklogFull(dropped, _options.MaxBacklogRows);
        }

        _counters.Backlog(count);
    }

    /// <summary>
    /// Writes the backlog, batch by batch, until it is empty (true) or a write fails for a reason that may pass
    /// (false: Postgres away, a timeout; the rows stay for the next try).
    /// </summary>
    public async Task<bool> WriteBacklogAsync(CancellationToken ct)
    {
        await _writing.WaitAsync(ct);
        try
        {
            while (true)
            {
                List<Pending> batch;
                lock (_gate)
                {
                    if (_backlog.Count == 0)
                    {
                        return true;
                    }

                    batch = _backlog.Take(_options.MaxBatchRows).ToList();
                }

                try
                {
                    await CopyAsync(batch, ct);
                    _counters.Written(batch.Count);
                    HasWritten = true;
                }
                catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal))
                {
                    // The values themselves are refused (a data exception, a check): retrying cannot help.
                    _counters.Rejected(batch.Count);
                    LogRejected(batch.Count, ex.SqlState);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !ct.IsCancellationRequested)
                {
                    _counters.WriteFailed();
                    LogWriteFailed(batch.Count, (ex as PostgresException)?.SqlState ?? ex.GetType().Name);
                    return false;
                }

                Remove(batch[^1].Sequence);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = _options.FlushInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, _time, stoppingToken);
                // A minute is closed once it ended at least Grace ago: take every minute before the one now - Grace is in.
                Collect(MinuteOf(_time.GetUtcNow() - _options.Grace));
                delay = await WriteBacklogAsync(stoppingToken)
                    ? _options.FlushInterval
                    : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
                Interlocked.Increment(ref _passes);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Stops the loop, then takes the open minutes too and writes the backlog once, within the host's shutdown time.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Collect(MinuteOf(_time.GetUtcNow()) + TimeSpan.FromMinutes(2));
        try
        {
            if (!await WriteBacklogAsync(cancellationToken))
            {
                LogLostAtShutdown(Backlog);
            }
        }
        catch (OperationCanceledException)
        {
            LogLostAtShutdown(Backlog);
        }
    }

    private void Remove(long upTo)
    {
        int count;
        lock (_gate)
        {
            // Rows the batch held may have been dropped from the backlog meanwhile (it was full): remove by sequence.
            while (_backlog.Count > 0 && _backlog.Peek().Sequence <= upTo)
            {
                _backlog.Dequeue();
            }

            count = _backlog.Count;
        }

        _counters.Backlog(count);
    }

    private async Task CopyAsync(List<Pending> batch, CancellationToken ct)
    {
        await using var connection = await _db.OpenConnectionAsync(ct);
        await using var copy = await connection.BeginBinaryImportAsync(CopyCommand, ct);
        foreach (var (_, rollup) in batch)
        {
            await WriteRowAsync(copy, MinuteOf(rollup.Minute), rollup.Key, rollup.Durations, rollup.Errors, ct);
        }

        await copy.CompleteAsync(ct);
    }

    /// <summary>
    /// One row of <c>perf.query_minutes</c> or <c>perf.query_hours</c> (the same columns, the minute or the hour first;
    /// an hour's bucket counts <paramref name="packed"/>: <see cref="PackedCounts"/>) in a binary COPY: the key cleaned
    /// (<see cref="Clean"/>), counts never negative, non-finite values as null or 0.
    /// </summary>
    internal static async Task WriteRowAsync(
        NpgsqlBinaryImporter copy, DateTimeOffset start, RollupKey key, ExponentialHistogram h, long errors, CancellationToken ct, bool packed = false)
    {
        await copy.StartRowAsync(ct);
        await copy.WriteAsync(start, NpgsqlDbType.TimestampTz, ct);
        await copy.WriteAsync(Clean(key.Service), NpgsqlDbType.Text, ct);
        await copy.WriteAsync(Clean(key.Table), NpgsqlDbType.Text, ct);
        await copy.WriteAsync(Clean(key.Operation), NpgsqlDbType.Text, ct);
        await copy.WriteAsync(Clean(key.QueryType), NpgsqlDbType.Text, ct);
        if (key.CacheHit is { } hit)
        {
            await copy.WriteAsync(hit, NpgsqlDbType.Boolean, ct);
        }
        else
        {
            await copy.WriteNullAsync(ct);
        }

        await copy.WriteAsync(Math.Max(h.Count, 0), NpgsqlDbType.Bigint, ct);
        await copy.WriteAsync(double.IsFinite(h.Sum) ? h.Sum : 0, NpgsqlDbType.Double, ct);
        await WriteFiniteAsync(copy, h.Min, ct);
        await WriteFiniteAsync(copy, h.Max, ct);
        await copy.WriteAsync(Math.Max(errors, 0), NpgsqlDbType.Bigint, ct);
        await copy.WriteAsync((short)h.Scale, NpgsqlDbType.Smallint, ct);
        await copy.WriteAsync(h.ZeroCount, NpgsqlDbType.Bigint, ct);
        await copy.WriteAsync(h.Offset, NpgsqlDbType.Integer, ct);
        if (packed)
        {
            await copy.WriteAsync(PackedCounts.Pack(h.Counts), NpgsqlDbType.Bytea, ct);
        }
        else
        {
            await copy.WriteAsync(h.Counts.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
        }
    }

    private static async Task WriteFiniteAsync(NpgsqlBinaryImporter copy, double value, CancellationToken ct)
    {
        if (double.IsFinite(value))
        {
            await copy.WriteAsync(value, NpgsqlDbType.Double, ct);
        }
        else
        {
            await copy.WriteNullAsync(ct);
        }
    }

    /// <summary>
    /// Telemetry text as Postgres accepts it: no NUL (text cannot hold one), no lone surrogate (not encodable as UTF-8),
    /// at most <see cref="MaxKeyLength"/> characters. Anything else would make Postgres refuse the whole batch.
    /// </summary>
    internal static string Clean(string value)
    {
        var text = value.Length > MaxKeyLength ? value[..MaxKeyLength] : value;
        if (!text.Contains('\0', StringComparison.Ordinal) && IsWellFormed(text))
        {
            return text;
        }

        var clean = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(c).Append(text[++i]);
            }
            else
            {
                clean.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }

        return clean.ToString();
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private readonly record struct Pending(long Sequence, MinuteRollup Rollup);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Rows} minute roll-up(s) to perf.query_minutes failed ({Reason}); they stay in the backlog and the write is retried")]
    private partial void LogWriteFailed(int rows, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Postgres refused {Rows} minute roll-up(s) for their values ({SqlState}); they are dropped")]
    private partial void LogRejected(int rows, string sqlState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "History backlog full: dropped the {Rows} oldest roll-up(s) (History:MaxBacklogRows = {Max})")]
    private partial void LogBacklogFull(int rows, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Rows} minute roll-up(s) could not be written at shutdown and are lost")]
    private partial void LogLostAtShutdown(int rows);
}
