namespace NexusCore.PerfApi.Store;

/// <summary>
/// Who may add a new series (or statement) to a bounded store, and what it replaces. Every service
/// (resource <c>service.name</c>) may hold up to <c>perService</c> keys, and all services together up to
/// <c>max</c>. A new key is always admitted:
/// <list type="bullet">
/// <item>when its service is at its quota, the least recently seen key of that same service makes room;</item>
/// <item>when the store is full but the service is under its quota, the least recently seen key of the service
/// that holds the most keys makes room (another service than the newcomer's, unless it is alone).</item>
/// </list>
/// So a noisy service churns through its own quota and cannot keep another service's series out; the store's
/// caps stay as they were. A sender that invents a new service name per series is as many services: the
/// guarantee is per name (and whoever holds the ingest key can also speak as any service).
/// Called by the store's single writer (the aggregator), and cheap off the first-sight path: nothing here runs
/// for a key the store already holds. Eviction scans one service's keys, at most <c>perService</c>.
/// </summary>
/// <param name="lastSeen">When a key was last seen (any monotonic scale, larger is more recent).</param>
internal sealed class ServiceQuota<TKey>(int max, int perService, Func<TKey, long> lastSeen)
    where TKey : notnull
{
    private readonly Dictionary<string, HashSet<TKey>> _byService = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _count;

    public int Max { get; } = max;

    public int PerService { get; } = Math.Min(perService, max);

    /// <summary>Keys admitted and not yet forgotten.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Keys a service holds now.</summary>
    public int CountOf(string service)
    {
        lock (_gate)
        {
            return _byService.TryGetValue(service, out var keys) ? keys.Count : 0;
        }
    }

    /// <summary>
    /// Admits <paramref name="key"/> of <paramref name="service"/>. When it returns true, the caller removes
    /// <paramref name="victim"/> from its store (it is already forgotten here) and counts the eviction.
    /// </summary>
    public bool Admit(string service, TKey key, out TKey victim)
    {
        victim = default!;
        lock (_gate)
        {
            if (!_byService.TryGetValue(service, out var own))
            {
                own = [];
                _byService[service] = own;
            }

            if (own.Contains(key))
            {
                return false;
            }

            var evicted = false;
            if (own.Count >= PerService)
            {
                evicted = TryEvictFrom(own, out victim);
            }
            else if (_count >= Max)
            {
                var largest = Largest(except: own) ?? own;
                evicted = TryEvictFrom(largest, out victim);
                if (largest.Count == 0)
                {
                    // Its last key made room: drop the service's entry, so that services do not pile up.
                    RemoveService(largest);
                }
            }

            own.Add(key);
            _count++;
            return evicted;
        }
    }

    /// <summary>Forgets a key the store removed on its own (expired).</summary>
    public void Forget(string service, TKey key)
    {
        lock (_gate)
        {
            if (_byService.TryGetValue(service, out var keys) && keys.Remove(key))
            {
                _count--;
                if (keys.Count == 0)
                {
                    _byService.Remove(service);
                }
            }
        }
    }

    private bool TryEvictFrom(HashSet<TKey> keys, out TKey victim)
    {
        victim = default!;
        var found = false;
        var oldest = long.MaxValue;
        foreach (var key in keys)
        {
            var seen = lastSeen(key);
            if (!found || seen < oldest)
            {
                (victim, oldest, found) = (key, seen, true);
            }
        }

        if (found)
        {
            keys.Remove(victim);
            _count--;
        }

        return found;
    }

    private HashSet<TKey>? Largest(HashSet<TKey> except)
    {
        HashSet<TKey>? largest = null;
        foreach (var keys in _byService.Values)
        {
            if (!ReferenceEquals(keys, except) && keys.Count > (largest?.Count ?? 0))
            {
                largest = keys;
            }
        }

        return largest;
    }

    private void RemoveService(HashSet<TKey> keys)
    {
        foreach (var (service, held) in _byService)
        {
            if (ReferenceEquals(held, keys))
            {
                _byService.Remove(service);
                return;
            }
        }
    }
}
