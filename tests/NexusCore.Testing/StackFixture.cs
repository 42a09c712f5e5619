using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit;

namespace NexusCore.Testing;

/// <summary>
/// Boots the real AppHost in local mode (the machine's PostgreSQL and redis-server) once per test
/// collection and waits, with a deadline, until every kept resource is healthy or finished.
/// Subclasses may keep only some resources to boot faster.
/// </summary>
public class StackFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private DistributedApplication? _app;
    private NpgsqlDataSource? _clientsDb;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The stack has not started.");

    /// <summary>The resources to keep; null keeps the whole AppHost.</summary>
    protected virtual IReadOnlyCollection<string>? KeptResources => null;

    /// <summary>
    /// Whether the stack runs PerfApi (the AppHost's <c>NexusCore:PerfApi:Enabled</c>). A test project that never
    /// calls it leaves it out: the stack boots sooner, and ClientsApi exports its telemetry to the dashboard only.
    /// </summary>
    protected virtual bool RunsPerfApi => true;

    /// <summary>The origin a browser frontend calls the stack's APIs from (<c>CORS_ALLOWED_ORIGINS</c>).</summary>
    public const string FrontendOrigin = "https://app.nexuscore.test";

    /// <summary>
    /// Extra AppHost arguments (configuration overrides). By default, export's own rate limit (1/s, burst 3,
    /// for callers) is raised: functional tests export many times in a row, rejections included. The limit
    /// itself is tested by a stack that keeps it (the fault tests). One frontend origin is allowed.
    /// </summary>
    protected virtual IEnumerable<string> ExtraArgs =>
    [
        "--CORS_ALLOWED_ORIGINS", FrontendOrigin,
        "--NexusCore:Services:clients-api:Environment:RateLimiting__Export__PermitsPerSecond", "1000",
        "--NexusCore:Services:clients-api:Environment:RateLimiting__Export__Burst", "1000",
    ];

    /// <summary>A data source on <c>clientsdb</c>, for asserting what the services wrote.</summary>
    public NpgsqlDataSource ClientsDb => _clientsDb ?? throw new InvalidOperationException("The stack has not started.");

    private readonly Dictionary<string, string> _apiKeys = new(StringComparer.Ordinal);

    /// <summary>A second key of the reader role, added through the AppHost's configuration (labelled).</summary>
    public const string SecondReaderKey = "reader-2";

    /// <summary>A second key of the writer role, added through the AppHost's configuration.</summary>
    public const string SecondWriterKey = "writer-2";

    /// <summary>A reader key configured with <c>Revoked=true</c>: no service accepts it.</summary>
    public const string RevokedKey = "revoked-reader";

    public const string SecondReaderLabel = "second reader (tests)";

    /// <summary>
    /// The values of the keys every test stack adds on top of the AppHost's four defaults, given as parameters
    /// (<c>--Parameters:api-key-&lt;id&gt;</c>) so that nothing is generated into the developer's user secrets.
    /// </summary>
    public IReadOnlyDictionary<string, string> ConfiguredKeys { get; } = new[] { SecondReaderKey, SecondWriterKey, RevokedKey }
        .ToDictionary(id => id, _ => "test-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20)), StringComparer.Ordinal);

    private IEnumerable<string> ConfiguredKeyArgs =>
    [
        $"--NexusCore:ApiKeys:{SecondReaderKey}:Role", "reader",
        $"--NexusCore:ApiKeys:{SecondReaderKey}:Label", SecondReaderLabel,
        $"--NexusCore:ApiKeys:{SecondWriterKey}:Role", "writer",
        $"--NexusCore:ApiKeys:{RevokedKey}:Role", "reader",
        $"--NexusCore:ApiKeys:{RevokedKey}:Revoked", "true",
        .. ConfiguredKeys.SelectMany(k => new[] { $"--Parameters:api-key-{k.Key}", k.Value }),
    ];

    /// <summary>
    /// Checks every answer this fixture's HttpClients receive from an API route against the document its service
    /// serves; what does not conform fails the collection when the stack stops (<see cref="DisposeAsync"/>).
    /// </summary>
    public Contract.ContractRecorder Contract { get; } = new();

    /// <summary>Whether <see cref="Contract"/> checks this stack's answers (a stack that breaks its services on purpose may opt out).</summary>
    protected virtual bool ChecksContract => true;

    /// <summary>An HttpClient for a service, sending the API key of id <paramref name="key"/> (reader, writer, admin, ingest, reader-2, …) when given.</summary>
    public HttpClient CreateClient(string resource, string? key = null)
    {
        var client = App.CreateHttpClient(resource, "http");
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey(key));
        }

        return client;
    }

    /// <summary>
    /// As <see cref="CreateClient"/>, but every request starts a sampled trace (<see cref="TraceParents.SampledHandler"/>):
    /// for tests that read what a service exports about these requests.
    /// </summary>
    public HttpClient CreateSampledClient(string resource, string? key = null)
    {
        var client = new HttpClient(new TraceParents.SampledHandler()) { BaseAddress = App.GetEndpoint(resource, "http") };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey(key));
        }

        return client;
    }

    /// <summary>
    /// The value of the key of id <paramref name="id"/>, read from its secret parameter as the AppHost hashes it
    /// for the services (a revoked key has no parameter: its value is the one this fixture gave).
    /// </summary>
    public string ApiKey(string id) =>
        _apiKeys.TryGetValue(id, out var key) || ConfiguredKeys.TryGetValue(id, out key) ? key : throw new InvalidOperationException($"No API key '{id}'.");

    public async Task<string> ConnectionStringAsync(string resource) =>
        await App.GetConnectionStringAsync(resource) ?? throw new InvalidOperationException($"'{resource}' has no connection string.");

    /// <summary>
    /// One HttpClient per running replica of <paramref name="resource"/>, each aimed at that replica's own
    /// port (bypassing the load-balancing proxy), so a test can write through one and read through another.
    /// </summary>
    public async Task<IReadOnlyList<HttpClient>> CreateReplicaClientsAsync(string resource, string role, int replicas)
    {
        // Each replica is its own resource instance; the notification stream names them all. A replica
        // counts once it is healthy, so the test never talks to one that is still starting.
        var urls = new Dictionary<string, string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var evt in App.ResourceNotifications.WatchAsync(deadline.Token))
        {
            if (evt.Resource.Name == resource
                && evt.Snapshot.State?.Text == KnownResourceStates.Running
                && evt.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                && evt.Snapshot.EnvironmentVariables.FirstOrDefault(e => e.Name == "ASPNETCORE_URLS")?.Value is { } url)
            {
                urls[evt.ResourceId] = url.Split(';')[0];
                if (urls.Count == replicas)
                {
                    break;
                }
            }
        }

        var clients = urls.Values.Select(url =>
        {
            var client = ChecksContract
                ? new HttpClient(Contract.CreateHandler(new SocketsHttpHandler())) { BaseAddress = new Uri(url) }
                : new HttpClient { BaseAddress = new Uri(url) };
            client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey(role));
            return client;
        }).ToList();

        // Aspire's health of a replica is not proof that its own port answers yet: a CI run once saw a
        // replica reported healthy refuse the test's first request on its port.
        foreach (var client in clients)
        {
            await Eventually.ThatAsync(() => AnswersAsync(client), TimeSpan.FromSeconds(30), $"{client.BaseAddress} answering /alive", TimeSpan.FromMilliseconds(100));
        }

        return clients;
    }

    private static async Task<bool> AnswersAsync(HttpClient client)
    {
        try
        {
            using var response = await client.GetAsync("/alive");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>The operating-system process id of a running resource (a project or an executable).</summary>
    public int ProcessId(string resource)
    {
        Assert.True(App.ResourceNotifications.TryGetCurrentState(resource, out var state), $"No state for {resource}");
        var pid = state.Snapshot.Properties.FirstOrDefault(p => p.Name.EndsWith(".pid", StringComparison.Ordinal))?.Value
            ?? throw new InvalidOperationException($"{resource} has no pid property.");
        return Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A running resource's process and every process below it (for a project: <c>dotnet run</c> and the service).</summary>
    public IReadOnlyList<int> ProcessTree(string resource)
    {
        var root = ProcessId(resource);
        return [root, .. Descendants(root)];
    }

    /// <summary>
    /// Kills a resource's processes with SIGKILL (no shutdown of any kind) and waits until Aspire sees it
    /// gone. Projects run under <c>dotnet run</c>, so the service itself is a child of the recorded pid:
    /// the whole tree is killed, the service first.
    /// </summary>
    public async Task KillResourceAsync(string resource)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var root = ProcessId(resource);
        foreach (var pid in Descendants(root).Reverse().Append(root))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        await App.ResourceNotifications.WaitForResourceAsync(
            resource, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), deadline.Token);
    }

    /// <summary>
    /// Freezes a resource's processes with SIGSTOP until the returned handle is disposed, which sends
    /// SIGCONT. With <paramref name="rootKeepsRunning"/>, only the processes below the root (for
    /// Postgres: every backend, not the postmaster, which goes on accepting connections and passing
    /// cancel requests on).
    /// </summary>
    public async Task<IAsyncDisposable> FreezeResourceAsync(string resource, bool rootKeepsRunning = false)
    {
        var root = ProcessId(resource);
        var frozen = Descendants(root).ToList();
        if (!rootKeepsRunning)
        {
            frozen.Add(root);
        }

        await SignalAsync("STOP", frozen);
        return new Thaw(frozen);
    }

    private sealed class Thaw(List<int> frozen) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await SignalAsync("CONT", frozen);
    }

    /// <summary>kill(1) with a signal; processes that have ended meanwhile are skipped by it.</summary>
    private static async Task SignalAsync(string signal, IEnumerable<int> pids)
    {
        var startInfo = new System.Diagnostics.ProcessStartInfo("kill") { RedirectStandardError = true };
        startInfo.ArgumentList.Add("-" + signal);
        foreach (var pid in pids)
        {
            startInfo.ArgumentList.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var process = System.Diagnostics.Process.Start(startInfo)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(deadline.Token);
    }

    /// <summary>The processes below <paramref name="root"/>, parents before children (Linux /proc).</summary>
    private static IEnumerable<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after ')'.
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    parents[pid] = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                    // The process ended while we looked.
                }
            }
        }

        var queue = new Queue<int>([root]);
        while (queue.Count > 0)
        {
            var parent = queue.Dequeue();
            foreach (var child in parents.Where(p => p.Value == parent).Select(p => p.Key))
            {
                yield return child;
                queue.Enqueue(child);
            }
        }
    }

    /// <summary>Stops a resource (as the dashboard's stop button does) and waits until it has exited.</summary>
    public async Task StopResourceAsync(string resource)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var result = await App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand, deadline.Token);
        Assert.True(result.Success, result.Message);
        await App.ResourceNotifications.WaitForResourceAsync(
            resource, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), deadline.Token);
    }

    /// <summary>Starts a stopped resource again and waits until it is healthy.</summary>
    public async Task StartResourceAsync(string resource)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var result = await App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, deadline.Token);
        Assert.True(result.Success, result.Message);

        // The start command can return before the orchestrator has reported the new process, while
        // the snapshot still shows the old run's exit; the default wait would take that for a failed
        // start (it did in CI). Waiting through unavailable states waits for the new run instead.
        try
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, WaitBehavior.WaitOnResourceUnavailable, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var state = App.ResourceNotifications.TryGetCurrentState(resource, out var current)
                ? $"{current.Snapshot.State?.Text ?? "no state"}, health {current.Snapshot.HealthStatus?.ToString() ?? "unknown"}"
                : "never reported";
            Assert.Fail($"'{resource}' was not healthy a minute after it was started again (last: {state}).");
        }

        // Connections the tests' own pool opened before a restart died with the old server; the next
        // test must not be handed one of them.
        _clientsDb?.Clear();
    }

    /// <summary>
    /// Starts the stack; if it does not start, stops what did and starts a new one (new run folder, new
    /// ports) once more. A CI run once had a whole collection fail on a start that never came on a
    /// machine where no run before or since failed to start; the first attempt's reason is written to
    /// the log, and a second failure fails every test of the collection with both reasons.
    /// </summary>
    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch (Exception first) when (first is TimeoutException or InvalidOperationException)
        {
            Console.Error.WriteLine($"[{GetType().Name}] The stack did not start; starting a new one. First attempt: {first.Message}");
            try
            {
                await StopAsync();
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or OperationCanceledException or DistributedApplicationException)
            {
                Console.Error.WriteLine($"[{GetType().Name}] Stopping the first attempt failed too: {ex.Message}");
            }

            try
            {
                await StartAsync();
            }
            catch (Exception second) when (second is TimeoutException or InvalidOperationException)
            {
                throw new InvalidOperationException(
                    $"The stack did not start in two attempts.{Environment.NewLine}Second attempt: {second.Message}{Environment.NewLine}First attempt: {first.Message}", second);
            }
        }
    }

    private async Task StartAsync()
    {
        _apiKeys.Clear();
        using var deadline = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.NexusCore_AppHost>(
            ["--infra", "local", .. ExtraArgs, .. ConfiguredKeyArgs, .. (RunsPerfApi ? Array.Empty<string>() : ["--NexusCore:PerfApi:Enabled", "false"])],
            (options, _) => options.DisableDashboard = true,
            deadline.Token);

        // The stack's own logs only at warning and above; health checks failing while a test stops a
        // resource are expected and would bury the test output.
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire.Hosting.Health", LogLevel.None)
            // The AppHost's appsettings log every request of the tests' HttpClients at Information:
            // thousands of lines per run, which pushed the failures out of the kept end of a CI log.
            .AddFilter("System.Net.Http.HttpClient", LogLevel.Warning));

        // The clients App.CreateHttpClient hands out (the factory's default one) check what they receive.
        if (ChecksContract)
        {
            builder.Services.AddHttpClient(Microsoft.Extensions.Options.Options.DefaultName).AddHttpMessageHandler(() => Contract.CreateHandler());
        }

        if (KeptResources is { } kept)
        {
            // Parameters (passwords, API keys) always stay: kept resources refer to them.
            foreach (var resource in builder.Resources.Where(r => r is not ParameterResource && !kept.Contains(r.Name)).ToList())
            {
                builder.Resources.Remove(resource);
            }
        }

        var waits = builder.Resources
            .Where(r => r is ProjectResource or ExecutableResource or IResourceWithParent)
            // Resources that only start on demand (Aspire's project rebuilders) are never waited for.
            .Where(r => !r.Annotations.OfType<ExplicitStartupAnnotation>().Any())
            .Select(r => (r.Name, RunsToCompletion: r.Name == "migrator"))
            .ToList();

        _app = await builder.BuildAsync(deadline.Token);
        try
        {
            await _app.StartAsync(deadline.Token);
            foreach (var (name, runsToCompletion) in waits)
            {
                if (runsToCompletion)
                {
                    // Any end, not only success: a migrator that fails ends "Exited", and waiting for
                    // "Finished" would then last the whole start timeout before saying anything.
                    var ended = await _app.ResourceNotifications.WaitForResourceAsync(
                        name, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), deadline.Token);
                    if (ended.Snapshot.State?.Text != KnownResourceStates.Finished || ended.Snapshot.ExitCode is not (null or 0))
                    {
                        throw new InvalidOperationException(
                            $"'{name}' ended {ended.Snapshot.State?.Text} with exit code {ended.Snapshot.ExitCode?.ToString() ?? "-"}.{Environment.NewLine}{await DiagnosisAsync(waits.Select(w => w.Name))}");
                    }
                }
                else
                {
                    // A resource that fails to start or exits while booting fails the fixture at once
                    // (DistributedApplicationException, below) instead of at the timeout.
                    await _app.ResourceNotifications.WaitForResourceHealthyAsync(name, WaitBehavior.StopOnResourceUnavailable, deadline.Token);
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The stack did not start within {StartTimeout}.{Environment.NewLine}{await DiagnosisAsync(waits.Select(w => w.Name))}");
        }
        catch (DistributedApplicationException ex)
        {
            throw new InvalidOperationException(
                $"{ex.Message}{Environment.NewLine}{await DiagnosisAsync(waits.Select(w => w.Name))}", ex);
        }

        var model = _app.Services.GetRequiredService<DistributedApplicationModel>();
        foreach (var parameter in model.Resources.OfType<ParameterResource>().Where(p => p.Name.StartsWith("api-key-", StringComparison.Ordinal)))
        {
            _apiKeys[parameter.Name["api-key-".Length..]] = await parameter.GetValueAsync(deadline.Token) ?? "";
        }

        if (ChecksContract)
        {
            foreach (var service in waits.Where(w => w.Name is "clients-api" or "perf-api"))
            {
                await Contract.PreloadAsync(App.GetEndpoint(service.Name, "http"));
            }
        }

        if (waits.Any(w => w.Name == "clientsdb"))
        {
            _clientsDb = NpgsqlDataSource.Create(await ConnectionStringAsync("clientsdb"));
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        if (Contract.Violations.Count > 0)
        {
            throw new InvalidOperationException(
                $"[{GetType().Name}] {Contract.Violations.Count} kinds of answers (of {Contract.Checked} checked) are not what the services' OpenAPI documents describe:"
                + Environment.NewLine + string.Join(Environment.NewLine, Contract.Violations.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"  {v.Key} (×{v.Value})")));
        }
    }

    private async Task StopAsync()
    {
        if (_clientsDb is not null)
        {
            await _clientsDb.DisposeAsync();
            _clientsDb = null;
        }

        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            await app.DisposeAsync();
        }
    }

    /// <summary>Why a start failed, as far as the stack can tell: each resource's state, then its last error lines.</summary>
    private async Task<string> DiagnosisAsync(IEnumerable<string> names) => DescribeResources(names) + await RecentErrorsAsync(names);

    /// <summary>The error lines each resource logged so far, so a failed start explains itself in the test output.</summary>
    private async Task<string> RecentErrorsAsync(IEnumerable<string> names)
    {
        var text = new StringBuilder();
        var model = _app!.Services.GetRequiredService<DistributedApplicationModel>();
        foreach (var resource in model.Resources.Where(r => names.Contains(r.Name)))
        {
            var lines = await ConsoleLinesAsync(resource, TimeSpan.FromSeconds(10));
            foreach (var line in lines.Where(l => l.IsErrorMessage || l.Content.Contains("xception", StringComparison.Ordinal)).TakeLast(10))
            {
                text.AppendLine().Append("  [").Append(resource.Name).Append("] ").Append(line.Content);
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// Every line a resource's processes wrote so far (for a project, those of each replica), read from
    /// the orchestrator: nothing streams them while no dashboard is watching. What was read within
    /// <paramref name="window"/> is returned.
    /// </summary>
    public async Task<IReadOnlyList<LogLine>> ConsoleLinesAsync(IResource resource, TimeSpan window)
    {
        var logs = App.Services.GetRequiredService<ResourceLoggerService>();
        using var deadline = new CancellationTokenSource(window);
        var lines = new List<LogLine>();
        try
        {
            await foreach (var batch in logs.GetAllAsync(resource).WithCancellation(deadline.Token))
            {
                lines.AddRange(batch);
            }
        }
        catch (OperationCanceledException)
        {
            // What was read within the window is returned.
        }

        return lines;
    }

    /// <summary>As <see cref="ConsoleLinesAsync(IResource, TimeSpan)"/>, by resource name.</summary>
    public Task<IReadOnlyList<LogLine>> ConsoleLinesAsync(string resource, TimeSpan window) =>
        ConsoleLinesAsync(App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == resource), window);

    private string DescribeResources(IEnumerable<string> names)
    {
        var text = new StringBuilder("Resource states:");
        foreach (var name in names)
        {
            var state = _app!.ResourceNotifications.TryGetCurrentState(name, out var evt)
                ? $"{evt.Snapshot.State?.Text ?? "?"} (health: {evt.Snapshot.HealthStatus?.ToString() ?? "none"}, exit code: {evt.Snapshot.ExitCode?.ToString() ?? "-"})"
                : "unknown";
            text.AppendLine().Append("  ").Append(name).Append(": ").Append(state);
        }

        return text.ToString();
    }
}
