using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;

namespace NexusCore.ServiceDefaults;

/// <summary>What makes a trace worth exporting, from <see cref="TracingOptions"/> and <c>SLOW_QUERY_THRESHOLD</c>.</summary>
public sealed class TailSamplingPolicy
{
    private readonly Dictionary<string, TimeSpan> _routes;

    public TailSamplingPolicy(TracingOptions tracing, SlowQueryOptions slowQueries)
    {
        Limits = tracing;
        SlowThreshold = slowQueries.Threshold;
        _routes = tracing.SlowRoutes.ToDictionary(r => NormalizeRoute(r.Route), r => TimeSpan.FromSeconds(r.ThresholdSeconds), StringComparer.OrdinalIgnoreCase);
    }

    public TracingOptions Limits { get; }

    /// <summary><c>SLOW_QUERY_THRESHOLD</c>: a trace with a span this long is slow, unless its route says otherwise.</summary>
    public TimeSpan SlowThreshold { get; }

    /// <summary>The threshold of the trace whose local root is <paramref name="root"/>: its route's, else <see cref="SlowThreshold"/>.</summary>
    public TimeSpan ThresholdOf(Activity root) =>
        _routes.Count > 0 && root.GetTagItem("http.route") is string route && _routes.TryGetValue(NormalizeRoute(route), out var threshold)
            ? threshold
            : SlowThreshold;

    /// <summary>A span that failed: error status (an exception, a failed query), or a server answer of 5xx.</summary>
    public static bool Failed(Activity span) =>
        span.Status == ActivityStatusCode.Error || span.GetTagItem("http.response.status_code") is int status and >= 500;

    /// <summary><c>/api/v1/x/</c> and <c>api/v1/x</c> name the same route.</summary>
    public static string NormalizeRoute(string route) => route.Trim().Trim('/');
}

/// <summary>
/// Tail sampling in process. Spans of a head-sampled trace (<see cref="RecordEverySpanSampler"/>) go straight to the
/// exporters. The others are recorded but held until their local root (the span whose parent is in another process,
/// or none: a request) ends; then the whole local trace is exported if it is slow (a span at least its route's
/// threshold, else <c>SLOW_QUERY_THRESHOLD</c>) or failed, and dropped otherwise. A kept root says why in
/// <c>nexuscore.trace.kept</c> (<c>slow</c> or <c>error</c>).
/// </summary>
/// <remarks>
/// Bounded (<see cref="TracingOptions"/>): at most <c>MaxOpenTraces</c> traces and <c>MaxBufferedSpans</c> spans held
/// (<c>MaxSpansPerTrace</c> for one trace). A span beyond a bound is not held and is counted in
/// <c>nexuscore.tracing.spans.refused</c>; its slowness or failure still counts for its trace when that trace is held, and
/// a root is always decided (on what was held). The last <c>MaxOpenTraces</c> decisions are remembered, so a child
/// that ends after its root (a background cache refresh) follows its trace's decision at once (or is exported alone
/// when itself slow or failed) instead of being held. A trace that gains no span for <c>IdleTraceSeconds</c> is let
/// go (work whose root is never recorded here, a child whose trace's decision was forgotten), counted as expired.
/// </remarks>
public sealed class TailSamplingProcessor : CompositeProcessor<Activity>
{
    public const string KeptTag = "nexuscore.trace.kept";

    private static readonly long SweepInterval = Stopwatch.Frequency;

    private readonly TailSamplingPolicy _policy;
    private readonly long _idleTicks;
    private readonly Dictionary<ActivitySpanId, OpenTrace> _open = [];
    private readonly Dictionary<ActivitySpanId, bool> _decided = [];
    private readonly Queue<ActivitySpanId> _decidedOrder = new();
    private readonly Lock _gate = new();
    private int _buffered;
    private long _lastSweep = Stopwatch.GetTimestamp();
    private long _kept, _dropped, _refused, _expired, _late;

    public TailSamplingProcessor(IEnumerable<BaseProcessor<Activity>> exporters, TailSamplingPolicy policy, Meter? meter = null)
        : base(exporters)
    {
        _policy = policy;
        _idleTicks = policy.Limits.IdleTraceSeconds * Stopwatch.Frequency;
        meter?.CreateObservableCounter("nexuscore.tracing.traces", () => new[]
        {
            new Measurement<long>(Statistics.Kept, new KeyValuePair<string, object?>("decision", "kept")),
            new Measurement<long>(Statistics.Dropped, new KeyValuePair<string, object?>("decision", "dropped")),
        }, description: "Local traces decided at their root's end (head-sampled traces are not counted)");
        meter?.CreateObservableCounter("nexuscore.tracing.spans.refused", () => Statistics.Refused + Statistics.Expired,
            description: "Spans let go unexported because the tail-sampling buffer was full, or their trace stayed idle");
    }

    /// <summary>Counts since start (traces kept and dropped; spans refused, expired, and late), and what is held now.</summary>
    public (long Kept, long Dropped, long Refused, long Expired, long Late, int OpenTraces, int BufferedSpans) Statistics
    {
        get
        {
            lock (_gate)
            {
                return (_kept, _dropped, _refused, _expired, _late, _open.Count, _buffered);
            }
        }
    }

    // The exporters need nothing when a span starts.
    public override void OnStart(Activity data)
    {
    }

    public override void OnEnd(Activity data)
    {
        if (data.Recorded)
        {
            base.OnEnd(data);
        }
        else if (data.Parent is null)
        {
            Decide(data);
        }
        else
        {
            Hold(data);
        }
    }

    private void Hold(Activity span)
    {
        var now = Stopwatch.GetTimestamp();
        var failed = TailSamplingPolicy.Failed(span);
        // Held per local root, not per trace id: one caller's trace may reach this service many times at once.
        var root = span.Parent!;
        while (root.Parent is { } parent)
        {
            root = parent;
        }

        var rootId = root.SpanId;
        bool kept;
        lock (_gate)
        {
            if (now - _lastSweep >= SweepInterval)
            {
                Sweep(now);
            }

            if (_decided.TryGetValue(rootId, out kept))
            {
                _late++;
            }
            else
            {
                if (!_open.TryGetValue(rootId, out var trace))
                {
                    if (_open.Count >= _policy.Limits.MaxOpenTraces)
                    {
                        _refused++;
                        return;
                    }

                    trace = new OpenTrace();
                    _open.Add(rootId, trace);
                }

                trace.LastSeen = now;
                trace.Failed |= failed;
                if (span.Duration > trace.Longest)
                {
                    trace.Longest = span.Duration;
                }

                if (trace.Spans.Count >= _policy.Limits.MaxSpansPerTrace || _buffered >= _policy.Limits.MaxBufferedSpans)
                {
                    _refused++;
                    return;
                }

                trace.Spans.Add(span);
                _buffered++;
                return;
            }
        }

        // A child that ended after its trace was decided: it follows the decision, or goes alone when it is itself notable.
        if (kept)
        {
            Export(span);
        }
        else if (failed || span.Duration >= _policy.SlowThreshold)
        {
            span.SetTag(KeptTag, failed ? "error" : "slow");
            Export(span);
        }
    }

    private void Decide(Activity root)
    {
        string? reason;
        OpenTrace? trace;
        lock (_gate)
        {
            if (_open.Remove(root.SpanId, out trace))
            {
                _buffered -= trace.Spans.Count;
            }

            reason = TailSamplingPolicy.Failed(root) || trace is { Failed: true } ? "error"
                : (trace is null || trace.Longest < root.Duration ? root.Duration : trace.Longest) >= _policy.ThresholdOf(root) ? "slow"
                : null;
            Remember(root.SpanId, reason is not null);
            if (reason is null)
            {
                _dropped++;
                return;
            }

            _kept++;
        }

        root.SetTag(KeptTag, reason);
        if (trace is not null)
        {
            foreach (var span in trace.Spans)
            {
                Export(span);
            }
        }

        Export(root);
    }

    /// <summary>Under the lock: the last MaxOpenTraces decisions, oldest forgotten first.</summary>
    private void Remember(ActivitySpanId id, bool kept)
    {
        if (!_decided.TryAdd(id, kept))
        {
            return;
        }

        _decidedOrder.Enqueue(id);
        if (_decidedOrder.Count > _policy.Limits.MaxOpenTraces)
        {
            _decided.Remove(_decidedOrder.Dequeue());
        }
    }

    private void Export(Activity span)
    {
        span.ActivityTraceFlags |= ActivityTraceFlags.Recorded;
        base.OnEnd(span);
    }

    /// <summary>Lets go the traces idle for too long. Under the lock; at most once a second.</summary>
    private void Sweep(long now)
    {
        _lastSweep = now;
        List<ActivitySpanId>? idle = null;
        foreach (var (id, trace) in _open)
        {
            if (now - trace.LastSeen >= _idleTicks)
            {
                (idle ??= []).Add(id);
            }
        }

        foreach (var id in idle ?? [])
        {
            _open.Remove(id, out var trace);
            _buffered -= trace!.Spans.Count;
            _expired += trace.Spans.Count;
        }
    }

    private sealed class OpenTrace
    {
        public readonly List<Activity> Spans = new(4);
        public long LastSeen;
        public bool Failed;
        public TimeSpan Longest;
    }
}
