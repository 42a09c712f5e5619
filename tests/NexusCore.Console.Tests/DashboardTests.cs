using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using NexusCore.Console.Tests.Infrastructure;

namespace NexusCore.Console.Tests;

/// <summary>The Aspire dashboard's links and buttons to the console (issue 28), through Aspire's testing APIs.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DashboardTests(ConsoleStack stack)
{
    private IResource Resource(string name) =>
        stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);

    [Fact]
    public async Task PerfApiAndClientsApiLinkToTheConsoleAndTheApiReferences()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var perf = await stack.App.ResourceNotifications.WaitForResourceAsync("perf-api", e => e.Snapshot.Urls.Any(u => u.Url.EndsWith("/console", StringComparison.Ordinal)), deadline.Token);
        var perfUrls = perf.Snapshot.Urls.Select(u => u.Url).ToList();
        Assert.Contains(stack.PerfApi + "console", perfUrls);
        Assert.Contains(stack.PerfApi + "console/indexes", perfUrls);
        Assert.Contains(stack.PerfApi + "scalar/", perfUrls);

        var clients = await stack.App.ResourceNotifications.WaitForResourceAsync("clients-api", e => e.Snapshot.Urls.Any(u => u.Url.EndsWith("/console/queries", StringComparison.Ordinal)), deadline.Token);
        Assert.Contains(clients.Snapshot.Urls, u => u.Url == stack.PerfApi + "console/queries");
        Assert.Contains(clients.Snapshot.Urls, u => u.Url.EndsWith("/scalar/", StringComparison.Ordinal));
    }

    [Fact]
    public void PerfApiHasTheConsoleCommandsAndClientsApiTheAlertsHealthCheck()
    {
        var commands = Resource("perf-api").Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name).ToList();
        Assert.Contains("clear-cache", commands);
        Assert.Contains("run-benchmark", commands);
        Assert.Contains("refresh-index-advice", commands);
        Assert.Contains(Resource("clients-api").Annotations.OfType<HealthCheckAnnotation>(), h => h.Key == "perf-api-alerts");
    }

    [Fact]
    public async Task CommandsRunThroughPerfApiAndReportTheirResult()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cleared = await stack.App.ResourceCommands.ExecuteCommandAsync("perf-api", "clear-cache", deadline.Token);
        Assert.True(cleared.Success, cleared.Message);
        Assert.Equal("ClientsApi cleared its cache on every instance.", cleared.Message);

        var advice = await stack.App.ResourceCommands.ExecuteCommandAsync("perf-api", "refresh-index-advice", deadline.Token);
        Assert.True(advice.Success, advice.Message);
        Assert.Contains("to retire", advice.Message, StringComparison.Ordinal);

        var benchmark = await stack.App.ResourceCommands.ExecuteCommandAsync("perf-api", "run-benchmark", deadline.Token);
        Assert.True(benchmark.Success, benchmark.Message);
        Assert.StartsWith("Benchmark: dashboard: ", benchmark.Message, StringComparison.Ordinal);
    }
}
