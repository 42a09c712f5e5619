using Npgsql;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// Reads a range of <c>perf.query_minutes</c> back as roll-ups: per <see cref="RollupKey"/> and grain (minutes binned from
/// the range's start), every row of the bin merged into one <see cref="MinuteRollup"/> (count, sum, min, max, errors
/// and one exponential histogram) whose <see cref="MinuteRollup.Minute"/> is the bin's start. Both reads are one round
/// trip (an <see cref="NpgsqlBatch"/>); Postgres does the merging, so what crosses the wire is one row per key and bin
/// plus one per key, bin and histogram bucket, however many minutes the range holds.
/// </summary>
public sealed class HistoryReader(NpgsqlDataSource db)
{
    // Totals per key and bin. date_bin places each minute in its bin, counted from the range's start.
    private const string TotalsSql = """
        SELECT service, table_name, operation, query_type, cache_hit, date_bin($3, minute, $1) AS bin,
               sum(count)::bigint, sum(sum), min(min), max(max), sum(errors)::bigint, sum(zero_count)::bigint, max(minute), count(*)
        FROM perf.query_minutes
        WHERE minute >= $1 AND minute < $2
        GROUP BY 1, 2, 3, 4, 5, 6
        """;

    // Buckets per key and bin, at the coarsest scale in the bin: bucket i at scale s is bucket i >> (s - t) at scale
    // t < s (an arithmetic shift, exact for negative indexes too), as ExponentialHistogram merges.
    private const string BucketsSql = """
        SELECT r.service, r.table_name, r.operation, r.query_type, r.cache_hit, r.bin, r.target,
               (r.bucket_offset + b.ord - 1)::bigint >> (r.scale - r.target)::int AS index, sum(b.n)::bigint
        FROM (
            SELECT service, table_name, operation, query_type, cache_hit, scale, bucket_offset, bucket_counts,
                   date_bin($3, minute, $1) AS bin,
                   min(scale) OVER (PARTITION BY service, table_name, operation, query_type, cache_hit, date_bin($3, minute, $1)) AS target
            FROM perf.query_minutes
            WHERE minute >= $1 AND minute < $2
        ) r
        CROSS JOIN LATERAL unnest(r.bucket_counts) WITH ORDINALITY AS b(n, ord)
        WHERE b.n > 0
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ORDER BY 1, 2, 3, 4, 5, 6, 8
        """;

    /// <summary>
    /// The rows whose minute is in [<paramref name="from"/>, <paramref name="to"/>), merged per key and bin of
    /// <paramref name="grain"/> from <paramref name="from"/>. Synchronous, as <see cref="IQueryRollupReader"/> is.
    /// </summary>
    public IReadOnlyList<MinuteRollup> Read(DateTimeOffset from, DateTimeOffset to, TimeSpan grain) =>
        Bins(from, to, grain, out _).Select(b => b.Rollup).ToList();

    /// <summary>As <see cref="Read(DateTimeOffset, DateTimeOffset, TimeSpan)"/>, with the number of rows merged.</summary>
    public IReadOnlyList<MinuteRollup> Read(DateTimeOffset from, DateTimeOffset to, TimeSpan grain, out long rows) =>
        Bins(from, to, grain, out rows).Select(b => b.Rollup).ToList();

    /// <summary>
    /// How many rows have their minute in [<paramref name="from"/>, <paramref name="to"/>): rows are only ever added in
    /// a range that retention does not reach, so an unchanged count is an unchanged range (an index-only count).
    /// </summary>
    public long Rows(DateTimeOffset from, DateTimeOffset to)
    {
        using var command = db.CreateCommand("SELECT count(*) FROM perf.query_minutes WHERE minute >= $1 AND minute < $2");
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = to });
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The rows whose minute is in [<paramref name="from"/>, <paramref name="to"/>), merged per key, with points of <paramref name="pointWidth"/> from <paramref name="from"/>.</summary>
    public Task<IReadOnlyList<HistorySeries>> ReadAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan pointWidth, CancellationToken ct)
    {
        var series = new Dictionary<RollupKey, HistorySeries>();
        foreach (var (rollup, lastMinute) in Bins(from, to, pointWidth, out _))
        {
            if (!series.TryGetValue(rollup.Key, out var entry))
            {
                series[rollup.Key] = entry = new HistorySeries(rollup.Key);
            }

            var h = rollup.Durations;
            entry.Durations.Merge(h);
            entry.Errors += rollup.Errors;
            entry.AddPoint(rollup.Minute, h.Count, h.Sum, h.Max, rollup.Errors);
            entry.LastMinute = lastMinute > entry.LastMinute ? lastMinute : entry.LastMinute;
        }

        return Task.FromResult<IReadOnlyList<HistorySeries>>(series.Values.ToList());
    }

    private List<(MinuteRollup Rollup, DateTimeOffset LastMinute)> Bins(DateTimeOffset from, DateTimeOffset to, TimeSpan grain, out long rows)
    {
        rows = 0;
        var totals = new Dictionary<(RollupKey Key, DateTimeOffset Bin), (long Zero, long Count, double Sum, double Min, double Max, long Errors, DateTimeOffset Last)>();
        var buckets = new Dictionary<(RollupKey Key, DateTimeOffset Bin), (int Scale, List<(long Index, long Count)> Counts)>();

        using var batch = db.CreateBatch();
        batch.BatchCommands.Add(Command(TotalsSql, from, to, grain));
        batch.BatchCommands.Add(Command(BucketsSql, from, to, grain));
        using var reader = batch.ExecuteReader();
        while (reader.Read())
        {
            rows += reader.GetInt64(13);
            totals[(KeyOf(reader), reader.GetFieldValue<DateTimeOffset>(5))] = (
                reader.GetInt64(11),
                reader.GetInt64(6),
                reader.GetDouble(7),
                reader.IsDBNull(8) ? double.PositiveInfinity : reader.GetDouble(8),
                reader.IsDBNull(9) ? double.NegativeInfinity : reader.GetDouble(9),
                reader.GetInt64(10),
                reader.GetFieldValue<DateTimeOffset>(12));
        }

        reader.NextResult();
        while (reader.Read())
        {
            var at = (KeyOf(reader), reader.GetFieldValue<DateTimeOffset>(5));
            if (!buckets.TryGetValue(at, out var entry))
            {
                buckets[at] = entry = (reader.GetInt16(6), []);
            }

            entry.Counts.Add((reader.GetInt64(7), reader.GetInt64(8)));
        }

        var bins = new List<(MinuteRollup, DateTimeOffset)>(totals.Count);
        foreach (var ((key, bin), (zero, count, sum, min, max, errors, last)) in totals)
        {
            var (scale, counts) = buckets.GetValueOrDefault((key, bin), (ExponentialHistogram.MaxScale, []));
            var durations = new ExponentialHistogram();
            AddBuckets(durations, scale, counts, zero, count, sum, min, max);
            bins.Add((new MinuteRollup(bin, key, durations, errors), last));
        }

        return bins;
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

    private static NpgsqlBatchCommand Command(string sql, DateTimeOffset from, DateTimeOffset to, TimeSpan grain)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = to });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = grain });
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
