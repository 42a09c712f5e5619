using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Analysis.Alerts;

/// <summary>
/// The alerts that are active and the recent transitions, as the <see cref="AlertMonitor"/> last evaluated
/// them. Updates and reads may come from any thread.
/// </summary>
public sealed class AlertBoard(IOptions<AlertOptions> options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(AlertKind Kind, string Subject), ActiveAlert> _active = [];
    private readonly Queue<AlertTransition> _recent = new();
    private readonly int _maxTransitions = options.Value.MaxTransitions;
    private DateTimeOffset? _lastEvaluatedAt;

    public DateTimeOffset? LastEvaluatedAt
    {
        get
        {
            lock (_gate)
            {
                return _lastEvaluatedAt;
            }
        }
    }

    /// <summary>Active alerts, the longest-running first.</summary>
    public IReadOnlyList<ActiveAlert> Active
    {
        get
        {
            lock (_gate)
            {
                return _active.Values.OrderBy(a => a.Since).ThenBy(a => a.Kind).ThenBy(a => a.Subject, StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>The most recent starts and stops, newest first.</summary>
    public IReadOnlyList<AlertTransition> Recent
    {
        get
        {
            lock (_gate)
            {
                return _recent.Reverse().ToList();
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="firing"/> the set of active alerts: a condition not active before starts, an
    /// active alert whose condition no longer holds stops. Returns those transitions, starts first.
    /// </summary>
    public IReadOnlyList<AlertTransition> Update(IReadOnlyList<AlertCondition> firing, DateTimeOffset now)
    {
        var transitions = new List<AlertTransition>();
        lock (_gate)
        {
            var holding = new HashSet<(AlertKind, string)>();
            foreach (var condition in firing)
            {
                var key = (condition.Kind, condition.Subject);
                if (!holding.Add(key))
                {
                    continue;
                }

                if (_active.TryGetValue(key, out var active))
                {
                    _active[key] = active with { Message = condition.Message, Value = condition.Value, Threshold = condition.Threshold, LastEvaluated = now };
                }
                else
                {
                    _active[key] = new ActiveAlert(condition.Kind, condition.Subject, condition.Message, condition.Value, condition.Threshold, condition.Unit, now, now);
                    transitions.Add(new AlertTransition(
                        condition.Kind, condition.Subject, AlertState.Started, now, condition.Value, condition.Threshold, condition.Unit, condition.Message));
                }
            }

            foreach (var (key, active) in _active.Where(a => !holding.Contains(a.Key)).ToList())
            {
                _active.Remove(key);
                transitions.Add(new AlertTransition(
                    active.Kind, active.Subject, AlertState.Stopped, now, active.Value, active.Threshold, active.Unit,
                    $"Stopped after {(now - active.Since).TotalSeconds:0} s: {active.Message}"));
            }

            foreach (var transition in transitions)
            {
                _recent.Enqueue(transition);
                while (_recent.Count > _maxTransitions)
                {
                    _recent.Dequeue();
                }
            }

            _lastEvaluatedAt = now;
        }

        return transitions;
    }
}
