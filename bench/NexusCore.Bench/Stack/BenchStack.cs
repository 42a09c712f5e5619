using System.Reflection;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NexusCore.Bench.Stack;

/// <summary>
/// The real AppHost booted in local mode through Aspire's testing builder: the machine's PostgreSQL
/// and redis-server on free ports, a fresh data folder, random service ports. It never touches a stack
/// that is already running, and two benchmark runs (or a run and the tests) can go side by side.
/// </summary>
public sealed class BenchStack : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    /// <summary>
    /// The AppHost's own switch for one service's settings. The benchmark raises ClientsApi's rate
    /// limits (1,000 requests/s per key, 1 export/s and 20 batches/s by default) out of the way, so the
    /// load generator measures the service, not its limiter. Raised rather than turned off
    /// (RateLimiting__Enabled=false), so that every request still pays what the limiter costs in production.
    /// </summary>
    public static readonly string[] AppHostArgs =
    [
        "--infra", "local",
        .. new[] { "PerKey", "PerAddress", "Export", "Batch" }.SelectMany(bucket => new[]
        {
            $"--NexusCore:Services:clients-api:Environment:RateLimiting__{bucket}__PermitsPerSecond=10000000",
            $"--NexusCore:Services:clients-api:Environment:RateLimiting__{bucket}__Burst=10000000",
        }),
    ];

    /// <summary>
    /// The Aspire dashboard is not started, so the OTLP exporter that would feed it is removed: it would
    /// only retry a closed port. Telemetry still flows to PerfApi, as shipped.
    /// </summary>
    public static readonly string[] DashboardExporterVariables =
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_PROTOCOL"];

    private readonly DistributedApplication _app;

    private BenchStack(DistributedApplication app, StackEndpoints endpoints)
    {
        _app = app;
        Endpoints = endpoints;
    }

    public StackEndpoints Endpoints { get; }

    public static async Task<BenchStack> StartAsync(CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(StartTimeout);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.NexusCore_AppHost>(
            AppHostArgs, (options, _) => options.DisableDashboard = true, deadline.Token);

        // The services' own logs stay out of the benchmark's output (they are kept by Aspire and printed
        // if the stack fails to start).
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("NexusCore.AppHost.Resources", LogLevel.None)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire.Hosting.Health", LogLevel.None)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Error));

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
            {
                foreach (var name in DashboardExporterVariables)
                {
                    context.EnvironmentVariables.Remove(name);
                }
            });
        }

        var model = builder.Resources;
        var clientsApiProject = ProjectPath(model, "clients-api");
        var migratorProject = ProjectPath(model, "migrator");

        var app = await builder.BuildAsync(deadline.Token);
        try
        {
            await app.StartAsync(deadline.Token);
            await app.ResourceNotifications.WaitForResourceAsync("migrator", KnownResourceStates.Finished, deadline.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("clients-api", deadline.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("perf-api", deadline.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or DistributedApplicationException && !ct.IsCancellationRequested)
        {
            var errors = await RecentErrorsAsync(app, ["postgres", "cache", "migrator", "clients-api", "perf-api"]);
            await app.DisposeAsync();
            throw new InvalidOperationException($"The stack did not start within {StartTimeout}.{errors}", ex);
        }

        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in model.OfType<ParameterResource>().Where(p => p.Name.StartsWith("api-key-", StringComparison.Ordinal)))
        {
            keys[parameter.Name["api-key-".Length..]] = await parameter.GetValueAsync(deadline.Token) ?? "";
        }

        // The service's own port, read from the environment it was given: Aspire's proxy in front of it
        // would add a hop to every request.
        app.ResourceNotifications.TryGetCurrentState("clients-api", out var clientsApi);
        var environment = clientsApi!.Snapshot.EnvironmentVariables
            .Where(v => v.IsFromSpec && v.Value is not null)
            .ToDictionary(v => v.Name, v => v.Value!, StringComparer.Ordinal);
        var url = environment["ASPNETCORE_URLS"].Split(';')[0].Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
        app.ResourceNotifications.TryGetCurrentState("perf-api", out var perfApi);
        var perfUrl = perfApi!.Snapshot.EnvironmentVariables
            .First(v => v.IsFromSpec && v.Name == "ASPNETCORE_URLS").Value!
            .Split(';')[0].Replace("localhost", "127.0.0.1", StringComparison.Ordinal);

        var endpoints = new StackEndpoints(
            ClientsDb: await app.GetConnectionStringAsync("clientsdb", deadline.Token) ?? throw new InvalidOperationException("clientsdb has no connection string."),
            ClientsApi: new Uri(url),
            PerfApi: new Uri(perfUrl),
            ApiKeys: keys,
            ClientsApiEnvironment: environment,
            ClientsApiProject: clientsApiProject,
            MigratorProject: migratorProject,
            Configuration: BuildConfiguration);
        return new BenchStack(app, endpoints);
    }

    /// <summary>Release or Debug: the AppHost runs the services built in the same configuration as this harness.</summary>
    public static string BuildConfiguration =>
        typeof(BenchStack).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    /// <summary>
    /// Writes what a resource logged (Aspire keeps a backlog) to <paramref name="file"/>: a failed run's
    /// post-mortem. Logs are not followed while measuring: streaming them costs CPU the services need.
    /// </summary>
    public async Task SaveLogsAsync(string resource, string file)
    {
        var logs = _app.Services.GetRequiredService<ResourceLoggerService>();

        // Logs are kept per instance: the resource's id (clients-api-xxxx), not its name.
        var id = _app.ResourceNotifications.TryGetCurrentState(resource, out var state) ? state.ResourceId : resource;
        await using var writer = new StreamWriter(file);
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await foreach (var batch in logs.WatchAsync(id).WithCancellation(window.Token))
            {
                foreach (var line in batch)
                {
                    await writer.WriteLineAsync(line.Content);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The backlog has been read.
        }
    }

    public async ValueTask DisposeAsync()
    {

        try
        {
            await _app.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            // Disposing below still tears the orchestrator and its processes down.
        }

        await _app.DisposeAsync();
    }

    private static string ProjectPath(IResourceCollection resources, string name) =>
        resources.OfType<ProjectResource>().Single(r => r.Name == name).GetProjectMetadata().ProjectPath;

    private static async Task<string> RecentErrorsAsync(DistributedApplication app, IEnumerable<string> names)
    {
        var text = new StringBuilder();
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var name in names)
        {
            var state = app.ResourceNotifications.TryGetCurrentState(name, out var evt)
                ? $"{evt.Snapshot.State?.Text ?? "?"} (health: {evt.Snapshot.HealthStatus?.ToString() ?? "none"})"
                : "unknown";
            text.AppendLine().Append("  ").Append(name).Append(": ").Append(state);

            using var window = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var lines = new List<string>();
            try
            {
                await foreach (var batch in logs.WatchAsync(name).WithCancellation(window.Token))
                {
                    lines.AddRange(batch.Where(l => l.IsErrorMessage).Select(l => l.Content));
                }
            }
            catch (OperationCanceledException)
            {
                // The window closed: what was logged so far has been read.
            }

            foreach (var line in lines.TakeLast(8))
            {
                text.AppendLine().Append("    ").Append(line);
            }
        }

        return text.ToString();
    }
}

/// <summary>Where the booted stack answers, and the secrets the harness needs (held in memory only).</summary>
public sealed record StackEndpoints(
    string ClientsDb,
    Uri ClientsApi,
    Uri PerfApi,
    IReadOnlyDictionary<string, string> ApiKeys,
    IReadOnlyDictionary<string, string> ClientsApiEnvironment,
    string ClientsApiProject,
    string MigratorProject,
    string Configuration)
{
    /// <summary>The built ClientsApi assembly, for running it in another configuration.</summary>
    public string ClientsApiDll => Path.Combine(
        Path.GetDirectoryName(ClientsApiProject)!, "bin", Configuration, "net10.0", Path.GetFileNameWithoutExtension(ClientsApiProject) + ".dll");

    public string ApiKey(string role) => ApiKeys.TryGetValue(role, out var key) ? key : throw new InvalidOperationException($"No API key for '{role}'.");
}
