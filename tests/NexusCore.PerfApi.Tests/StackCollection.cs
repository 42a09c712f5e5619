using System.Globalization;
using NexusCore.PerfApi.Analysis.Indexes;

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
/// <see cref="ApplicationRole"/>.
/// </summary>
public sealed class PerfApiStack : StackFixture
{
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>ClientsApi's role, the advisor's default: the tests' own workloads (<see cref="Features.Indexes.TestTable"/>) run as it.</summary>
    public const string ApplicationRole = "nexuscore_clients_api";

    /// <summary>The advisor's options as this stack sets them, for tests that run the analysis in process.</summary>
    public static IndexAdvisorOptions AdvisorOptions(bool useHypoPg = true) =>
        new() { ApplicationRoles = [ApplicationRole], MinRefreshInterval = MinRefreshInterval, UseHypoPg = useHypoPg };

    protected override IEnumerable<string> ExtraArgs =>
    [
        .. base.ExtraArgs,
        "--NexusCore:Services:perf-api:Environment:IndexAdvisor__MinRefreshInterval", MinRefreshInterval.ToString("c", CultureInfo.InvariantCulture),
    ];
}
