namespace NexusCore.AppHost.Tests.Reliability;

/// <summary>
/// The whole stack configured for fault tests: ClientsApi's read pools (searches, lookups by id) of 5 connections each and write pool of 2,
/// each waiting 2 s for a free one, 10 s query timeouts, per-key rate limits low enough to reach (50/s, on
/// both APIs), every trace exported (sample ratio 1), and every signal ClientsApi emits copied to an <see cref="OtlpCapture"/> for the privacy scan.
/// </summary>
public sealed class FaultStack : StackFixture, IAsyncLifetime
{
    public const int PoolSize = 5;
    public const int WritePoolSize = 2;
    public const int PerKeyPermitsPerSecond = 50;

    public OtlpCapture Capture { get; } = new();

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--DB_POOL_SIZE", PoolSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--DB_WRITE_POOL_SIZE", WritePoolSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--DB_LOOKUP_POOL_SIZE", PoolSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--DB_CONNECTION_TIMEOUT", "2",
        "--DB_COMMAND_TIMEOUT", "10",
        .. ClientsApi("RateLimiting__PerKey__PermitsPerSecond", PerKeyPermitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        .. ClientsApi("RateLimiting__PerKey__Burst", PerKeyPermitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        .. PerfApi("RateLimiting__PerKey__PermitsPerSecond", PerKeyPermitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        .. PerfApi("RateLimiting__PerKey__Burst", PerKeyPermitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        .. ClientsApi("OTEL_EXPORTER_OTLP_ENDPOINT", Capture.Endpoint),
        .. ClientsApi("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        .. ClientsApi("OTEL_BLRP_SCHEDULE_DELAY", "500"),
        .. ClientsApi("OTEL_BSP_SCHEDULE_DELAY", "500"),
        // Every trace exported: the privacy scan must see every span ClientsApi can export, and tail sampling only
        // chooses among them (its decisions are tested in ClientsApi's and PerfApi's tests).
        .. ClientsApi("Tracing__SampleRatio", "1"),
    ];

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Capture.DisposeAsync();
    }

    private static string[] ClientsApi(string name, string value) => [$"--NexusCore:Services:clients-api:Environment:{name}", value];

    private static string[] PerfApi(string name, string value) => [$"--NexusCore:Services:perf-api:Environment:{name}", value];
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultStack>
{
    public const string Name = "faults";
}
