using System.Diagnostics.Metrics;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// What the history writer, the compactor and the retention sweep did, as running totals (for the telemetry summary and tests) and
/// as PerfApi's own metrics (<c>nexuscore.perf.history.*</c>, on the service's meter, exported as every metric is).
/// </summary>
public sealed class HistoryCounters
{
    private long _rowsWritten;
    private long _batchesWritten;
    private long _writeFailures;
    private long _rowsDroppedBacklogFull;
    private long _rowsRejected;
    private long _rowsDeleted;
    private long _backlog;
    private long _hoursCompacted;
    private long _minutesCompacted;
    private long _hourRowsWritten;
    private long _compactionFailures;

    public HistoryCounters(IMeterFactory? meters = null)
    {
        if (meters is null)
        {
            return;
        }

        var meter = meters.Create("NexusCore.PerfApi");
        meter.CreateObservableCounter("nexuscore.perf.history.rows.written", () => Volatile.Read(ref _rowsWritten), "{row}", "Minute roll-ups written to perf.query_minutes");
        meter.CreateObservableCounter("nexuscore.perf.history.write.failures", () => Volatile.Read(ref _writeFailures), "{failure}", "Writes that failed and will be retried");
        meter.CreateObservableCounter(
            "nexuscore.perf.history.rows.dropped",
            () => new[]
            {
                new Measurement<long>(Volatile.Read(ref _rowsDroppedBacklogFull), new KeyValuePair<string, object?>("reason", "backlog_full")),
                new Measurement<long>(Volatile.Read(ref _rowsRejected), new KeyValuePair<string, object?>("reason", "rejected")),
            },
            "{row}",
            "Minute roll-ups never written: the backlog was full, or Postgres refused the row's values");
        meter.CreateObservableCounter("nexuscore.perf.history.rows.deleted", () => Volatile.Read(ref _rowsDeleted), "{row}", "Rows deleted by retention");
        meter.CreateObservableCounter("nexuscore.perf.history.hours.compacted", () => Volatile.Read(ref _hoursCompacted), "{hour}", "Closed hours whose minutes were merged into perf.query_hours");
        meter.CreateObservableCounter("nexuscore.perf.history.minutes.compacted", () => Volatile.Read(ref _minutesCompacted), "{row}", "Minute rows replaced by hour rows");
        meter.CreateObservableCounter("nexuscore.perf.history.compaction.failures", () => Volatile.Read(ref _compactionFailures), "{failure}", "Compactions that failed (rolled back whole) and will be retried");
        meter.CreateObservableUpDownCounter("nexuscore.perf.history.backlog", () => Volatile.Read(ref _backlog), "{row}", "Roll-ups waiting to be written");
    }

    public void Written(int rows)
    {
        Interlocked.Add(ref _rowsWritten, rows);
        Interlocked.Increment(ref _batchesWritten);
    }

    public void WriteFailed() => Interlocked.Increment(ref _writeFailures);

    public void DroppedBacklogFull(int rows) => Interlocked.Add(ref _rowsDroppedBacklogFull, rows);

    public void Rejected(int rows) => Interlocked.Add(ref _rowsRejected, rows);

    public void Deleted(long rows) => Interlocked.Add(ref _rowsDeleted, rows);

    public void Backlog(int rows) => Volatile.Write(ref _backlog, rows);

    public void Compacted(long minuteRows, int hourRows)
    {
        Interlocked.Increment(ref _hoursCompacted);
        Interlocked.Add(ref _minutesCompacted, minuteRows);
        Interlocked.Add(ref _hourRowsWritten, hourRows);
    }

    public void CompactionFailed() => Interlocked.Increment(ref _compactionFailures);

    public HistoryCountersSnapshot Snapshot() => new(
        Volatile.Read(ref _rowsWritten),
        Volatile.Read(ref _batchesWritten),
        Volatile.Read(ref _writeFailures),
        Volatile.Read(ref _rowsDroppedBacklogFull),
        Volatile.Read(ref _rowsRejected),
        Volatile.Read(ref _rowsDeleted),
        Volatile.Read(ref _backlog),
        Volatile.Read(ref _hoursCompacted),
        Volatile.Read(ref _minutesCompacted),
        Volatile.Read(ref _hourRowsWritten),
        Volatile.Read(ref _compactionFailures));
}

/// <param name="BatchesWritten">Successful writes: one binary COPY (one round trip) each.</param>
/// <param name="RowsDroppedBacklogFull">The oldest waiting rows dropped while Postgres was away and the backlog was full.</param>
/// <param name="RowsRejected">Rows of batches Postgres refused for their values (never retried: they would fail again).</param>
/// <param name="RowsDeleted">Rows (minutes and hours) deleted by retention.</param>
/// <param name="HoursCompacted">Hours compacted (each one transaction that took minute rows and wrote hour rows).</param>
/// <param name="MinutesCompacted">Minute rows those hours replaced.</param>
/// <param name="HourRowsWritten">Hour rows written in their place (one per key and hour).</param>
public sealed record HistoryCountersSnapshot(
    long RowsWritten,
    long BatchesWritten,
    long WriteFailures,
    long RowsDroppedBacklogFull,
    long RowsRejected,
    long RowsDeleted,
    long Backlog,
    long HoursCompacted,
    long MinutesCompacted,
    long HourRowsWritten,
    long CompactionFailures);
