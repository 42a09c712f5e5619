using Npgsql;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// Reads a range of history back as roll-ups: the hour rows of <c>perf.query_hours</c> and the minute rows of
/// <c>perf.query_minutes</c> in it, merged per <see cref="RollupKey"/> and grain (bins counted from the range's start)
/// into one <see cref="MinuteRollup"/> (count, sum, min, max, errors and one exponential histogram) whose
/// <see cref="MinuteRollup.Minute"/> is the bin's start. One statement reads both tables, so it sees one snapshot: a
/// compaction (which moves an hour's minutes into hour rows in one transaction) committing meanwhile is seen whole or
/// not at all, and no query is counted twice or missed. Rows are merged here as they stream in, with the same merge
/// every other figure uses (<see cref="ExponentialHistogram.Add"/>); memory holds one histogram per key and bin.
/// </summary>
/// <remarks>
/// An hour row counts whole in the bin its hour starts in, and only when that start is in the range: a range that
/// reads hour rows starts on a clock hour (<see cref="Analysis.Performance.PerformanceReader"/> aligns its long
/// windows), and a range read per minute never reaches a compacted hour (<see cref="HistoryOptions.MinuteRetention"/>
/// is at least <see cref="HistoryRollupReader.MinuteGrainUpTo"/>).
/// </remarks>
public sealed class HistoryReader(NpgsqlDataSource db)
{
    // An hour's counts are packed (bytea, PackedCounts), a minute's are bigint[]: each in a column of its own.
    private const string RowsSql = """
        SELECT hour, service, table_name, operation, query_type, cache_hit, count, sum, min, max, errors,
               scale, zero_count, bucket_offset, NULL::bigint[], bucket_counts
        FROM perf.query_hours
        WHERE hour >= $1 AND hour < $2
        UNION ALL
        SELECT minute, service, table_name, operation, query_type, cache_hit, count, sum, min, max, errors,
               scale, zero_count, bucket_offset, bucket_counts, NULL::bytea
        FROM perf.query_minutes
        WHERE minute >= $1 AND minute < $2
        """;

    /// <summary>
    /// The rows (hours and minutes) starting in [<paramref name="from"/>, <paramref name="to"/>), merged per key and bin
    /// of <paramref name="grain"/> from <paramref name="from"/>. Synchronous, as <see cref="IQueryRollupReader"/> is.
    /// </summary>
    public IReadOnlyList<MinuteRollup> Read(DateTimeOffset from, DateTimeOffset to, TimeSpan grain) =>
        Bins(from, to, grain).Select(b => b.Rollup).ToList();

    /// <summary>The rows in [<paramref name="from"/>, <paramref name="to"/>), merged per key, with points of <paramref name="pointWidth"/> from <paramref name="from"/>.</summary>
    public Task<IReadOnlyList<HistorySeries>> ReadAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan pointWidth, CancellationToken ct)
    {
        var series = new Dictionary<RollupKey, HistorySeries>();
        foreach (var (rollup, lastMinute) in Bins(from, to, pointWidth))
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

    private List<(MinuteRollup Rollup, DateTimeOffset LastMinute)> Bins(DateTimeOffset from, DateTimeOffset to, TimeSpan grain)
    {
        if (grain <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(grain), "A bin is longer than zero.");
        }

        var bins = new Dictionary<(RollupKey Key, DateTimeOffset Bin), Bin>();
        using var command = db.CreateCommand(RowsSql);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = to });
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var start = reader.GetFieldValue<DateTimeOffset>(0);
            var at = (KeyOf(reader), from + grain * Math.Floor((start - from) / grain));
            if (!bins.TryGetValue(at, out var bin))
            {
                bins[at] = bin = new Bin();
            }

            var counts = reader.IsDBNull(14) ? PackedCounts.Unpack(reader.GetFieldValue<byte[]>(15)) : reader.GetFieldValue<long[]>(14);
            bin.Durations.Add(
                reader.GetInt16(11),
                reader.GetInt64(12),
                reader.GetInt32(13),
                counts,
                reader.GetInt64(6),
                reader.GetDouble(7),
                reader.IsDBNull(8) ? double.PositiveInfinity : reader.GetDouble(8),
                reader.IsDBNull(9) ? double.NegativeInfinity : reader.GetDouble(9));
            bin.Errors += reader.GetInt64(10);
            bin.Last = start > bin.Last ? start : bin.Last;
        }

        return bins.Select(b => (new MinuteRollup(b.Key.Bin, b.Key.Key, b.Value.Durations, b.Value.Errors), b.Value.Last)).ToList();
    }

    private static RollupKey KeyOf(NpgsqlDataReader reader) => new(
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.IsDBNull(5) ? null : reader.GetBoolean(5));

    private sealed class Bin
    {
        public ExponentialHistogram Durations { get; } = new();

        public long Errors { get; set; }

        public DateTimeOffset Last { get; set; } = DateTimeOffset.MinValue;
    }
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
