using Npgsql;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// Reads a window of <c>perf.query_minutes</c> back: per <see cref="RollupKey"/>, every row of the window merged (count,
/// sum, min, max, errors and one exponential histogram), and per point of the window its count, sum, max and errors.
/// Both reads are one round trip (an <see cref="NpgsqlBatch"/>); Postgres does the merging, so what crosses the wire is
/// one row per key and point plus one per key and histogram bucket, however many minutes the window holds.
/// </summary>
public sealed class HistoryReader(NpgsqlDataSource db)
{
    // Totals per key and point. date_bin places each minute in its point, counted from the window's start.
    private const string TotalsSql = """
        SELECT service, table_name, operation, query_type, cache_hit, date_bin($3, minute, $1) AS point,
               sum(count)::bigint, sum(sum), min(min), max(max), sum(errors)::bigint, sum(zero_count)::bigint, max(minute)
        FROM perf.query_minutes
        WHERE minute >= $1 AND minute < $2
        GROUP BY 1, 2, 3, 4, 5, 6
        """;

    // Buckets per key over the whole window, at the key's coarsest scale in it: bucket i at scale s is bucket
    // i >> (s - t) at scale t < s (an arithmetic shift, exact for negative indexes too), as ExponentialHistogram merges.
    private const string BucketsSql = """
        SELECT r.service, r.table_name, r.operation, r.query_type, r.cache_hit, r.target,
               (r.bucket_offset + b.ord - 1)::bigint >> (r.scale - r.target)::int AS index, sum(b.n)::bigint
        FROM (
            SELECT service, table_name, operation, query_type, cache_hit, scale, bucket_offset, bucket_counts,
                   min(scale) OVER (PARTITION BY service, table_name, operation, query_type, cache_hit) AS target
            FROM perf.query_minutes
            WHERE minute >= $1 AND minute < $2
        ) r
        CROSS JOIN LATERAL unnest(r.bucket_counts) WITH ORDINALITY AS b(n, ord)
        WHERE b.n > 0
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        ORDER BY 1, 2, 3, 4, 5, 7
        """;

    /// <summary>The rows whose minute is in [<paramref name="from"/>, <paramref name="to"/>), merged per key, with points of <paramref name="pointWidth"/> from <paramref name="from"/>.</summary>
    public async Task<IReadOnlyList<HistorySeries>> ReadAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan pointWidth, CancellationToken ct)
    {
        var series = new Dictionary<RollupKey, HistorySeries>();
        var buckets = new Dictionary<RollupKey, (int Scale, List<(long Index, long Count)> Counts)>();
        var totals = new Dictionary<RollupKey, (long Zero, long Count, double Sum, double Min, double Max)>();

        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(Command(TotalsSql, from, to, pointWidth));
        batch.BatchCommands.Add(Command(BucketsSql, from, to, null));
        await using var reader = await batch.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var key = KeyOf(reader);
            if (!series.TryGetValue(key, out var entry))
            {
                series[key] = entry = new HistorySeries(key);
            }

            var count = reader.GetInt64(6);
            var sum = reader.GetDouble(7);
            var min = reader.IsDBNull(8) ? double.PositiveInfinity : reader.GetDouble(8);
            var max = reader.IsDBNull(9) ? double.NegativeInfinity : reader.GetDouble(9);
            var errors = reader.GetInt64(10);
            entry.AddPoint(reader.GetFieldValue<DateTimeOffset>(5), count, sum, max, errors);
            entry.Errors += errors;
            var lastMinute = reader.GetFieldValue<DateTimeOffset>(12);
            if (lastMinute > entry.LastMinute)
            {
                entry.LastMinute = lastMinute;
            }

            var sofar = totals.GetValueOrDefault(key, (0, 0, 0, double.PositiveInfinity, double.NegativeInfinity));
            totals[key] = (sofar.Zero + reader.GetInt64(11), sofar.Count + count, sofar.Sum + sum, Math.Min(sofar.Min, min), Math.Max(sofar.Max, max));
        }

        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var key = KeyOf(reader);
            if (!buckets.TryGetValue(key, out var entry))
            {
                buckets[key] = entry = (reader.GetInt16(5), []);
            }

            entry.Counts.Add((reader.GetInt64(6), reader.GetInt64(7)));
        }

        foreach (var (key, entry) in series)
        {
            var (zero, count, sum, min, max) = totals[key];
            var (scale, counts) = buckets.GetValueOrDefault(key, (ExponentialHistogram.MaxScale, []));
            AddBuckets(entry.Durations, scale, counts, zero, count, sum, min, max);
        }

        return series.Values.ToList();
    }

    /// <summary>Whether any row has its minute in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public async Task<bool> AnyAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT EXISTS (SELECT FROM perf.query_minutes WHERE minute >= $1 AND minute < $2)");
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = to });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Adds merged buckets (sorted by index, at <paramref name="scale"/>) and the window's totals to a histogram. The
    /// rows' union can be wider than one histogram holds: the scale is lowered first until it fits, as a merge would.
    /// </summary>
    internal static void AddBuckets(
        ExponentialHistogram target, int scale, List<(long Index, long Count)> counts, long zero, long count, double sum, double min, double max)
    {
        if (counts.Count == 0)
        {
            target.Add(scale, zero, 0, [], count, sum, min, max);
            return;
        }

        var lo = counts[0].Index;
        var hi = counts[^1].Index;
        var by = 0;
        while (hi - lo + 1 > ExponentialHistogram.MaxBuckets && scale > ExponentialHistogram.MinScale)
        {
            scale--;
            by++;
            lo >>= 1;
            hi >>= 1;
        }

        var dense = new long[Math.Min(hi - lo + 1, ExponentialHistogram.MaxBuckets)];
        foreach (var (index, n) in counts)
        {
            // Clamped only when even the coarsest scale cannot hold the range (a nonsense sender): the ends absorb it.
            dense[Math.Clamp((index >> by) - lo, 0, dense.Length - 1)] += n;
        }

        target.Add(scale, zero, (int)lo, dense, count, sum, min, max);
    }

    private static NpgsqlBatchCommand Command(string sql, DateTimeOffset from, DateTimeOffset to, TimeSpan? pointWidth)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = to });
        if (pointWidth is { } width)
        {
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = width });
        }

        return command;
    }

    private static RollupKey KeyOf(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetBoolean(4));
}

/// <summary>One key's figures over a window: every minute merged, and per point its totals.</summary>
public sealed class HistorySeries(RollupKey key)
{
    private readonly SortedDictionary<DateTimeOffset, HistoryPoint> _points = [];

    public RollupKey Key { get; } = key;

    /// <summary>Durations in seconds; count, sum, min and max are the histogram's.</summary>
    public ExponentialHistogram Durations { get; } = new();

    public long Errors { get; set; }

    /// <summary>The latest minute with a row; <see cref="DateTimeOffset.MinValue"/> when none.</summary>
    public DateTimeOffset LastMinute { get; set; } = DateTimeOffset.MinValue;

    public IReadOnlyCollection<HistoryPoint> Points => _points.Values;

    public void AddPoint(DateTimeOffset start, long count, double sum, double max, long errors)
    {
        if (!_points.TryGetValue(start, out var point))
        {
            _points[start] = point = new HistoryPoint(start);
        }

        point.Count += count;
        point.Sum += double.IsFinite(sum) ? sum : 0;
        point.Max = Math.Max(point.Max, max);
        point.Errors += errors;
    }
}

/// <summary>One point of a series: the minutes in [<see cref="Start"/>, Start + point width) added up (seconds).</summary>
public sealed class HistoryPoint(DateTimeOffset start)
{
    public DateTimeOffset Start { get; } = start;

    public long Count { get; set; }

    public double Sum { get; set; }

    public double Max { get; set; } = double.NegativeInfinity;

    public long Errors { get; set; }
}
