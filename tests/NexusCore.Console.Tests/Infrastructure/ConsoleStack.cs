using System.Globalization;
using Aspire.Hosting.Testing;

namespace NexusCore.Console.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleStack>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "console";
}

/// <summary>
/// The whole stack (local mode), as an operator runs it, for the console and the API references in a browser.
/// The index advisor may run a new analysis every 5 s (the default 30 s would make the apply test wait).
/// </summary>
public sealed class ConsoleStack : StackFixture
{
    /// <summary>PerfApi's origin as the browser reaches it.</summary>
    public Uri PerfApi => App.GetEndpoint("perf-api", "http");

    protected override IEnumerable<string> ExtraArgs =>
    [
        .. base.ExtraArgs,
        "--NexusCore:Services:perf-api:Environment:IndexAdvisor__MinRefreshInterval", TimeSpan.FromSeconds(5).ToString("c", CultureInfo.InvariantCulture),
        "--NexusCore:Services:clients-api:Environment:OTEL_METRIC_EXPORT_INTERVAL", "1000",
        // As run.sh runs it: PerfApi's active alerts are clients-api's health in the dashboard.
        "--NexusCore:Dashboard:AlertsAsHealth", "true",
    ];
}
