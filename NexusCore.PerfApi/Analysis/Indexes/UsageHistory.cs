using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Sql;
using NexusCore.PerfApi.Store;
namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>A counter's change over a window, as far as the snapshots can tell.</summary>
/// <param name="Increase">Its increase since the last snapshot at or before the window's start; null when the
/// counter was first seen after that (not watched for the whole window).</param>
/// <param name="ObservedSeconds">How long the counter has been watched (since first seen, or since its last reset).</param>
/// <param name="SinceFirstSeen">Its increase since first seen (or since its last reset).</param>
internal readonly record struct CounterChange(long? Increase, double ObservedSeconds, long SinceFirstSeen);

/// <summary>
/// Snapshots of cumulative counters (<c>idx_scan</c> per index, entries written per table) taken when PerfApi
/// starts, every <see cref="IndexAdvisorOptions.UsageSnapshotInterval"/>, and at each read. A counter's increase
/// over a window is its value now minus its value at the last snapshot at or before the window's start: exact to
/// the snapshot interval, and never smaller than the truth (a change just before the window counts in it), so an
/// index is called unused only when it certainly was. A counter that went down was reset (pg_stat_reset): its
/// history restarts. At most one snapshot per interval is kept, and none older than the longest window needed.
/// </summary>
internal sealed class UsageHistory(TimeSpan interval, TimeSpan keep)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, List<(DateTimeOffset At, long Value)>> _series = [];

    /// <summary>Records a reading of every counter; counters missing from it (a dropped index) are forgotten.</summary>
    public void Record(IReadOnlyDictionary<long, long> values, DateTimeOffset now)
    {
        lock (_gate)
        {
            foreach (var key in _series.Keys.Where(k => !values.ContainsKey(k)).ToList())
            {
                _series.Remove(key);
            }

            foreach (var (key, value) in values)
            {
                if (!_series.TryGetValue(key, out var points))
                {
                    _series[key] = [(now, value)];
                    continue;
                }

                if (value < points[^1].Value)
                {
                    points.Clear();
                    points.Add((now, value));
                    continue;
                }

                // The newest reading always replaces a recent one, so reads between snapshots stay current
                // without adding points; a point older than the interval is kept as a snapshot.
                if (points.Count > 1 && now - points[^2].At < interval)
                {
                    points[^1] = (now, value);
                }
                else
                {
                    points.Add((now, value));
                }

                // Keep one point at or before now - keep: the start of the longest window.
                while (points.Count > 2 && points[1].At <= now - keep)
                {
                    points.RemoveAt(0);
                }
            }
        }
    }

    /// <summary>The counter's change over the window ending now; null when it has never been seen.</summary>
    public CounterChange? Change(long key, TimeSpan window, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_series.TryGetValue(key, out var points))
            {
                return null;
            }

            var first = points[0];
            var last = points[^1];
            var start = now - window;
            long? increase = null;
            for (var i = points.Count - 1; i >= 0; i--)
            {
                if (points[i].At <= start)
                {
                    increase = last.Value - points[i].Value;
                    break;
                }
            }

            return new CounterChange(increase, Math.Max(0, (now - first.At).TotalSeconds), last.Value - first.Value);
        }
    }
}
