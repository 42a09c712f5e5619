namespace NexusCore.PerfApi.Tests.Telemetry;

/// <summary>A clock the test moves by hand, so that buckets, retention and sweeps are deterministic.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
