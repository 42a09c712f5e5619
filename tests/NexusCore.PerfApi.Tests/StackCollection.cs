using System.Globalization;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.ServiceDefaults;

namespace NexusCore.PerfApi.Tests;

[CollectionDefinition(Name)]
public sealed class StackCollection : ICollectionFixture<PerfApiStack>
{
    public const string Name = "stack";
}

/// <summary>
/// The whole stack, with PerfApi's index advisor set for tests: <c>refresh=true</c> may run a new analysis every
/// <see cref="MinRefreshInterval"/> (the default, 30 s, would make each test that needs a fresh analysis wait that
/// long; the rate limit itself is tested with this shorter one), and the advisor analyses the statements of
/// <see cref="ApplicationRole"/>. Both services also export every signal, as they would to the Aspire dashboard, to
/// <see cref="Dashboard"/> (an OTLP capture), where tests read which traces left them; ClientsApi's
/// <c>GET api/v1/cache/statistics</c> has a slowness threshold of 0 (<see cref="SlowRoute"/>): every trace of it is slow.
/// </summary>
public sealed class PerfApiStack : StackFixture, IAsyncLifetime
{
    /// <summary>The route whose traces ClientsApi always keeps here, as slow.</summary>
    public const string SlowRoute = "api/v1/cache/statistics";

    public OtlpCapture Dashboard { get; } = new();

    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>Executions since a build after which PerfApi gives an applied index its verdict here.</summary>
    public const int VerifyExecutions = 20;

    /// <summary>ClientsApi's role, the advisor's default: the tests' own workloads (<see cref="Features.Indexes.TestTable"/>) run as it.</summary>
    public const string ApplicationRole = "nexuscore_clients_api";

    /// <summary>The advisor's options as this stack sets them, for tests that run the analysis in process.</summary>
    public static IndexAdvisorOptions AdvisorOptions(bool useHypoPg = true) =>
        new() { ApplicationRoles = [ApplicationRole], MinRefreshInterval = MinRefreshInterval, UseHypoPg = useHypoPg };

    protected override IEnumerable<string> ExtraArgs =>
    [
        .. base.ExtraArgs,
        "--NexusCore:Services:perf-api:Environment:IndexAdvisor__MinRefreshInterval", MinRefreshInterval.ToString("c", CultureInfo.InvariantCulture),
        // Tests compact history in process when they mean to (HistoryCompactionTests); PerfApi's own pass runs at start
        // and then not within a test run, so it never takes the minutes a test wrote days back while it inspects them.
        "--NexusCore:Services:perf-api:Environment:History__CompactionInterval", TimeSpan.FromHours(1).ToString("c", CultureInfo.InvariantCulture),
        // An applied index is judged after 20 executions (or 2 minutes), read twice a second (IndexVerificationTests).
        // Usage and statement snapshots every 2 s, so that the time advice saves per hour is known within seconds.
        "--NexusCore:Services:perf-api:Environment:IndexAdvisor__UsageSnapshotInterval", "00:00:02",
        "--NexusCore:Services:perf-api:Environment:IndexAdvisor__VerifyExecutions", VerifyExecutions.ToString(CultureInfo.InvariantCulture),
        "--NexusCore:Services:perf-api:Environment:IndexAdvisor__VerifyWindow", "00:02:00",
        "--NexusCore:Services:perf-api:Environment:IndexAdvisor__VerifyPollInterval", "00:00:00.5",
        "--NexusCore:Services:clients-api:Environment:Tracing__SlowRoutes__0__Route", SlowRoute,
        "--NexusCore:Services:clients-api:Environment:Tracing__SlowRoutes__0__ThresholdSeconds", "0",
        .. new[] { "clients-api", "perf-api" }.SelectMany(service => new[]
        {
            $"--NexusCore:Services:{service}:Environment:OTEL_EXPORTER_OTLP_ENDPOINT", Dashboard.Endpoint,
            $"--NexusCore:Services:{service}:Environment:OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
            $"--NexusCore:Services:{service}:Environment:OTEL_BSP_SCHEDULE_DELAY", "200",
            $"--NexusCore:Services:{service}:Environment:OTEL_METRIC_EXPORT_INTERVAL", "1000",
        }),
    ];

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Dashboard.DisposeAsync();
    }
}
