using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using NexusCore.Bench.Load;
using NexusCore.Bench.Reporting;
using NexusCore.Bench.Scenarios;
using NexusCore.Bench.Stack;

namespace NexusCore.Bench;

/// <summary>
/// One benchmark run: boot the stack, seed, build the "before" table, then measure the baselines, the
/// seed's "before", ClientsApi without its cache, ClientsApi with OpenTelemetry off, and ClientsApi as
/// shipped, writes last (they add rows). Each figure is the median of <see cref="BenchOptions.Runs"/> runs.
/// </summary>
public sealed class Harness(BenchOptions options, string repoRoot, TextWriter output)
{
    public const string Before = "before";
    public const string Uncached = "uncached";
    public const string Shipped = "shipped";
    public const string OtelOff = "otel-off";
    public const string OtelOn = "otel-on";
    public const string OtelAll = "otel-all";
    public const string Baseline = "baseline";

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<(string Name, string Configuration), Measurement> _measured = [];
    private readonly List<StampedeRun> _stampede = [];
    private Postgres? _pg;
    private Wrk? _wrk;
    private string _work = "";
    private BenchResults _results = null!;

    private int Seconds => options.DurationSeconds;

    /// <summary>The scratch folder (scripts, generated CSV, the services' logs); left in place when a run fails.</summary>
    public string WorkDirectory => _work;

    public async Task<BenchResults> RunAsync(string command, CancellationToken ct)
    {
        _work = Directory.CreateTempSubdirectory("nexuscore-bench-").FullName;
        var result = await RunCoreAsync(command, ct);

        // Kept when the run fails: the services' logs are in it.
        Directory.Delete(_work, recursive: true);
        return result;
    }

    private async Task<BenchResults> RunCoreAsync(string command, CancellationToken ct)
    {
        _results = new BenchResults
        {
            Date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Mode = options.Tiny ? "tiny" : "full",
            Command = command,
            Clients = options.Clients,
            DurationSeconds = Seconds,
            Runs = options.Runs,
            Machine = MachineInfo.Read(repoRoot),
        };
        Log($"machine: {_results.Machine.Cores} cores, {_results.Machine.MemoryGb} GB, load average {_results.Machine.LoadAverageAtStart}");

        var wrkVersion = Wrk.Version();
        _wrk = wrkVersion is null ? null : new Wrk(Path.Combine(AppContext.BaseDirectory, "wrk", "bench.lua"), _work);
        _results.Tools["http load"] = wrkVersion ?? "the harness's .NET load generator (wrk is not installed)";
        _results.Tools["pgbench"] = (await Tool.RunCheckedAsync("pgbench", ["--version"], ct: ct)).Stdout.Trim();
        _results.Tools["psql"] = (await Tool.RunCheckedAsync("psql", ["--version"], ct: ct)).Stdout.Trim();
        _results.Tools["dotnet"] = _results.Machine.Runtime;
        if (wrkVersion is null)
        {
            _results.Notes.Add("wrk is not installed: HTTP load came from the harness's .NET generator, which costs more CPU per request than wrk, so requests/s are lower than wrk would show.");
        }

        Log("starting the stack (AppHost, local mode)");
        var started = Stopwatch.StartNew();
        await using var stack = await BenchStack.StartAsync(ct);
        _results.SetupSeconds["stack start"] = Round(started.Elapsed.TotalSeconds);
        var endpoints = stack.Endpoints;
        var pg = _pg = new Postgres(endpoints.ClientsDb, _work);
        _results.Tools["postgres"] = await pg.ScalarAsync<string>("SELECT version()", ct);
        _results.Tools["ASPNETCORE_ENVIRONMENT"] = endpoints.ClientsApiEnvironment.GetValueOrDefault("ASPNETCORE_ENVIRONMENT", "(unset: Production)");

        await SeedAsync(endpoints, pg, ct);

        Log("building the 'before' table (bench_before.clients: same rows, V0001 indexes, no counters)");
        started.Restart();
        foreach (var statement in BeforeSchema.Statements)
        {
            await pg.ExecuteAsync(statement, ct);
        }

        _results.SetupSeconds["before table"] = Round(started.Elapsed.TotalSeconds);

        await using var db = pg.CreateDataSource();
        var fixtures = await Fixtures.PickAsync(db, options.Clients, ct);
        var shipped = endpoints.ClientsApi;
        var deepPath = await DeepCursorPathAsync(shipped, endpoints.ApiKey("reader"), ct);
        var reads = Operations.Reads(fixtures, deepPath, options.DeepPageOffset);
        Define(fixtures);

        try
        {
            await CopyOutAsync(pg, ct);
            await BeforeAsync(fixtures, reads, ct);
            await UncachedAsync(endpoints, pg, fixtures, reads, ct);
            await ShippedReadsAsync(endpoints, pg, fixtures, reads, ct);
            await WritesAsync(endpoints, pg, ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            await stack.SaveLogsAsync("clients-api", Path.Combine(_work, "clients-api-shipped.log"));
            throw;
        }

        Summarize(fixtures, reads);
        _results.TotalSeconds = Round(_clock.Elapsed.TotalSeconds);
        _results.LoadAverageAtEnd = MachineInfo.LoadAverage();
        Log($"done in {_results.TotalSeconds:0} s; load average {_results.LoadAverageAtEnd}");
        return _results;
    }

    private async Task SeedAsync(StackEndpoints endpoints, Postgres pg, CancellationToken ct)
    {
        Log($"seeding {options.Clients:N0} clients (NexusCore.Migrator seed, binary COPY)");
        var seed = await Tool.RunCheckedAsync(
            "dotnet",
            ["run", "--project", endpoints.MigratorProject, "--no-build", "-c", endpoints.Configuration, "--no-launch-profile",
             "--", "seed", "--clients", options.Clients.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["ConnectionStrings__clientsdb"] = endpoints.ClientsDb, ["Logging__LogLevel__Default"] = "Warning" },
            TimeSpan.FromMinutes(20),
            repoRoot,
            ct);
        _results.SetupSeconds["seed"] = Round(seed.Elapsed.TotalSeconds);
        _results.SeedRowsPerSecond = Math.Round(options.Clients / seed.Elapsed.TotalSeconds);
        Log($"seeded in {seed.Elapsed.TotalSeconds:0.0} s ({_results.SeedRowsPerSecond:N0} rows/s, process start included)");

        // Hint bits and the visibility map, as autovacuum would set them soon after a load.
        var vacuum = Stopwatch.StartNew();
        await pg.ExecuteAsync("VACUUM (ANALYZE) clients", ct);
        _results.SetupSeconds["vacuum analyze"] = Round(vacuum.Elapsed.TotalSeconds);
        var rows = await pg.ScalarAsync<long>("SELECT count(*) FROM clients", ct);
        if (rows != options.Clients)
        {
            throw new InvalidOperationException($"The clients table holds {rows:N0} rows after seeding {options.Clients:N0}.");
        }
    }

    /// <summary>Walks keyset pages (200 rows each) to the deep page, as a client paging through would.</summary>
    private async Task<string> DeepCursorPathAsync(Uri api, string readerKey, CancellationToken ct)
    {
        using var load = new HttpLoad(api, readerKey, 1);
        string? cursor = null;
        for (var skipped = 0; skipped < options.DeepPageOffset; skipped += 200)
        {
            var limit = Math.Min(200, options.DeepPageOffset - skipped);
            var path = Operations.Optimized + $"search/advanced?limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var page = await load.Client.GetFromJsonAsync<JsonDocument>(path, ct) ?? throw new InvalidOperationException("An empty search page.");
            cursor = page.RootElement.GetProperty("nextCursor").GetString() ?? throw new InvalidOperationException("The search ended before the deep page.");
        }

        return Operations.Optimized + "search/advanced?limit=50&cursor=" + Uri.EscapeDataString(cursor!);
    }

    private async Task CopyOutAsync(Postgres pg, CancellationToken ct)
    {
        Log("baseline: psql \\copy out of the clients table");
        var copyOut = new List<double>();
        for (var run = 0; run < options.Runs; run++)
        {
            var result = await pg.PsqlAsync(
                [$"\\copy (SELECT {Operations.Columns} FROM clients ORDER BY id) TO '/dev/null' WITH (FORMAT csv, HEADER)"], ct);
            copyOut.Add(options.Clients / result.Elapsed.TotalSeconds);
        }

        _results.Baselines["copy out rows/s"] = Math.Round(Stats.Median(copyOut));
        Log($"baseline  copy out: {Stats.Median(copyOut):N0} rows/s");
    }

    private async Task BeforeAsync(Fixtures fixtures, IReadOnlyList<ReadOperation> reads, CancellationToken ct)
    {
        Log("before: the seed's SQL on bench_before.clients (pgbench, no HTTP, no cache)");
        foreach (var read in reads)
        {
            await PgbenchAsync(read.Key, Before, read.BeforeScripts, options.LatencyConnections, ct);
        }

        await PgbenchAsync("export page", Before, [Operations.BeforeExportScript(fixtures.ReservedFrom - 1)], 1, ct);
        await PgbenchAsync("row insert", Before, [Operations.BeforeRowInsertScript], 1, ct);
    }

    private async Task UncachedAsync(StackEndpoints endpoints, Postgres pg, Fixtures fixtures, IReadOnlyList<ReadOperation> reads, CancellationToken ct)
    {
        Log("uncached: ClientsApi with Cache__Enabled=false");
        await using var api = await StartVariantAsync(endpoints, Uncached, new Dictionary<string, string?> { ["Cache__Enabled"] = "false" }, ct);
        var reader = endpoints.ApiKey("reader");
        await WarmAsync(Uncached, api.Url, reader, reads, ct);

        // What Postgres itself spends on each statement the reads send: the rest of a request's time is the API's.
        await pg.ExecuteAsync("SELECT pg_stat_statements_reset()", ct);
        foreach (var read in reads)
        {
            var workload = read.Key == "get" ? Operations.UniformGet(fixtures) : read.After;
            await HttpAsync(read.Key, Uncached, api.Url, workload, options.LatencyConnections, reader, ct);
        }

        _results.UncachedStatements.AddRange(await StatementStatsAsync(pg, ct));

        // The reads with a p99 target once more over one connection: the request's own latency, with no
        // other request queued for the machine's cores.
        foreach (var read in reads.Where(r => P99Targets.ContainsKey(r.Key)))
        {
            await HttpAsync(read.Key + " c1", Uncached, api.Url, read.After, 1, reader, ct);
        }

        // And at a steady offered load well below what the machine can serve, beside the bare plaintext
        // app at the same pace: the part of a tail that any request on this machine has, before our code.
        await using (var plaintext = await StartPlaintextAsync(ct))
        {
            var think = options.LatencyConnections * 1000.0 / options.PacedRate;
            var plain = Workload.Get("plaintext", "/plaintext") with { ThinkMs = think };
            await InterleavedAsync(
            [
                .. reads.Where(r => P99Targets.ContainsKey(r.Key)).Select(read => new Contender(
                    Paced(read.Key), Uncached, ToolName, options.LatencyConnections,
                    () => HttpRunAsync(api.Url, read.After with { ThinkMs = think }, options.LatencyConnections, reader, ct))),
                new(Paced("plaintext"), Baseline, ToolName, options.LatencyConnections,
                    () => HttpRunAsync(plaintext.Url, plain, options.LatencyConnections, null, ct)),
            ],
            // Figures of their own, not ratios: the rounds of any figure (twice as many took 36 s more).
            rounds: options.Runs);
        }

        // The same statement through the API and straight from pgbench, runs alternating so that
        // whatever else the machine does weighs on both alike.
        await InterleavedAsync(
        [
            new("get (throughput)", Uncached, ToolName, options.ThroughputConnections,
                () => HttpRunAsync(api.Url, Operations.UniformGet(fixtures), options.ThroughputConnections, reader, ct)),
            new("get (product SQL)", Baseline, "pgbench", options.ThroughputConnections,
                () => pg.PgbenchAsync("get-product", [Operations.ProductGetScript(fixtures)], options.ThroughputConnections, PgbenchSeconds, ct)),
        ]);
        _stampede.Add(await StampedeAsync(Uncached, api.Url, reader, fixtures.ReservedFrom + Fixtures.Reserved - 1, pg, ct));
    }

    /// <summary>What "OpenTelemetry off" switches off: the query spans and metrics, the SDK (every span, metric and log export), and both exporters.</summary>
    public static readonly IReadOnlyDictionary<string, string?> OtelOffEnvironment = new Dictionary<string, string?>
    {
        ["PERFORMANCE_MONITORING"] = "false",
        ["OTEL_SDK_DISABLED"] = "true",
        ["NexusCore__Telemetry__PerfApiEndpoint"] = null,
        ["NexusCore__Telemetry__PerfApiKey"] = null,
    };

    /// <summary>"Every trace exported": the shipped environment with a sample ratio of 1, what ClientsApi exported before tail sampling.</summary>
    public static readonly IReadOnlyDictionary<string, string?> OtelAllEnvironment = new Dictionary<string, string?>
    {
        ["Tracing__SampleRatio"] = "1",
    };

    private async Task ShippedReadsAsync(StackEndpoints endpoints, Postgres pg, Fixtures fixtures, IReadOnlyList<ReadOperation> reads, CancellationToken ct)
    {
        Log("shipped: ClientsApi as the AppHost runs it (cache on, OpenTelemetry to PerfApi)");
        var api = endpoints.ClientsApi;
        var reader = endpoints.ApiKey("reader");
        await WarmAsync(Shipped, api, reader, reads, ct);
        foreach (var read in reads)
        {
            await HttpAsync(read.Key, Shipped, api, read.After, options.LatencyConnections, reader, ct);
        }

        Log("shipped vs otel-on and otel-off (ClientsApi run by the harness, same environment but for OpenTelemetry) vs plaintext, runs alternating");
        await using (var otelOn = await StartVariantAsync(endpoints, OtelOn, new Dictionary<string, string?>(), ct))
        await using (var otelOff = await StartVariantAsync(endpoints, OtelOff, OtelOffEnvironment, ct))
        await using (var otelAll = await StartVariantAsync(endpoints, OtelAll, OtelAllEnvironment, ct))
        await using (var plaintext = await StartPlaintextAsync(ct))
        {
            // All at once: each settles on its own CPU per request, and the rounds that follow alternate
            // them anyway. One after the other took 40-50 s of a run that must fit in 10 minutes.
            await Task.WhenAll(WarmAsync(OtelOn, otelOn.Url, reader, reads, ct), WarmAsync(OtelOff, otelOff.Url, reader, reads, ct), WarmAsync(OtelAll, otelAll.Url, reader, reads, ct));
            var hot = HotGet(fixtures);
            var plain = Workload.Get("plaintext", "/plaintext");
            var connections = options.ThroughputConnections;
            await InterleavedAsync(
            [
                new("get (throughput)", Shipped, ToolName, connections, () => HttpRunAsync(api, hot, connections, reader, ct)),
                new("get (throughput)", OtelOn, ToolName, connections, () => HttpRunAsync(otelOn.Url, hot, connections, reader, ct)),
                new("get (throughput)", OtelOff, ToolName, connections, () => HttpRunAsync(otelOff.Url, hot, connections, reader, ct)),
                new("get (throughput)", OtelAll, ToolName, connections, () => HttpRunAsync(otelAll.Url, hot, connections, reader, ct)),
                new("plaintext", Baseline, ToolName, connections, () => HttpRunAsync(plaintext.Url, plain, connections, null, ct)),
            ]);

            // L1: one cached client over one connection, against plaintext and ClientsApi's own /alive.
            var one = new Workload("get-one", [new HttpRequestSpec("GET", Operations.ClientsApi + fixtures.HotIds[0])]);
            var alive = Workload.Get("alive", "/alive");
            await InterleavedAsync(
            [
                new("get c1", Shipped, ToolName, 1, () => HttpRunAsync(api, one, 1, reader, ct)),
                new("alive c1", Shipped, ToolName, 1, () => HttpRunAsync(api, alive, 1, null, ct)),
                new("plaintext c1", Baseline, ToolName, 1, () => HttpRunAsync(plaintext.Url, plain, 1, null, ct)),
            ]);
        }

        var zipf = await ZipfAsync(api, endpoints, fixtures, ct);

        for (var i = 0; i < options.Runs; i++)
        {
            _stampede.Add(await StampedeAsync(Shipped, api, reader, fixtures.ReservedFrom + i, pg, ct));
        }

        await ConcurrencyAsync(api, reader, fixtures, ct);

        var get = Get("get c1", Shipped);
        var plaintextOne = Get("plaintext c1", Baseline);
        var aliveOne = Get("alive c1", Shipped);
        _results.Cache = new CacheResult(
            get.P50Ms, plaintextOne.P50Ms, aliveOne.P50Ms,
            Math.Round((get.P50Ms - plaintextOne.P50Ms) * 1000, 1),
            Math.Round((get.P50Ms - aliveOne.P50Ms) * 1000, 1),
            options.ZipfExponent,
            options.ZipfWarmupSeconds,
            zipf,
            Stats.Median(zipf.Select(w => w.HitRatePercent)),
            Stats.Median(zipf.Select(w => w.IdealHitRatePercent)),
            ZipfModels(endpoints, fixtures, zipf),
            _stampede);
    }

    private static async Task<List<StatementStat>> StatementStatsAsync(Postgres pg, CancellationToken ct, int minCalls = 2)
    {
        await using var db = pg.CreateDataSource();
        await using var command = db.CreateCommand("""
            SELECT query, calls, mean_exec_time, rows::float8 / calls, shared_blks_hit, shared_blks_read
            FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND calls >= $1 AND query NOT ILIKE '%pg_stat_statements%'
            ORDER BY total_exec_time DESC
            LIMIT 12
            """);
        command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = minCalls });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var stats = new List<StatementStat>();
        while (await reader.ReadAsync(ct))
        {
            var query = string.Join(' ', reader.GetString(0).Split((char[])['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
            long hit = reader.GetInt64(4), read = reader.GetInt64(5);
            stats.Add(new StatementStat(
                query.Length > 240 ? query[..240] + "…" : query,
                reader.GetInt64(1),
                Math.Round(reader.GetDouble(2), 3),
                Math.Round(reader.GetDouble(3), 1),
                hit + read == 0 ? 100 : Math.Round(100.0 * hit / (hit + read), 1)));
        }

        return stats;
    }

    private Task<ServiceProcess> StartPlaintextAsync(CancellationToken ct)
    {
        var dll = Path.Combine(repoRoot, "bench", "NexusCore.Bench.Plaintext", "bin", BenchStack.BuildConfiguration, "net10.0", "NexusCore.Bench.Plaintext.dll");
        return ServiceProcess.StartAsync(dll, Path.GetDirectoryName(dll)!, new Dictionary<string, string>(), "/plaintext", Path.Combine(_work, "plaintext.log"), ct);
    }

    private async Task WritesAsync(StackEndpoints endpoints, Postgres pg, CancellationToken ct)
    {
        Log("writes and export (shipped): export, batch of 1,000 creates, psql \\copy in");
        var api = endpoints.ClientsApi;

        // Export first: it must read exactly the seeded rows.
        var pid = ServerPid(api);
        using (var admin = new HttpLoad(api, endpoints.ApiKey("admin"), 1))
        {
            var rates = new List<double>();
            var seconds = new List<double>();
            double? peakGrowth = null;
            for (var run = 0; run < options.Runs; run++)
            {
                var startMb = pid is { } p ? ProcessMemory.ResidentMb(p) : null;
                var peakMb = startMb;
                var watch = Stopwatch.StartNew();
                using var response = await admin.SendAsync(new HttpRequestSpec("GET", Operations.ExportPath), ct, HttpCompletionOption.ResponseHeadersRead);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"The export answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                }

                await using var body = await response.Content.ReadAsStreamAsync(ct);
                var buffer = new byte[1 << 20];
                long lines = 0;
                var lastSample = watch.Elapsed;
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    lines += buffer.AsSpan(0, read).Count((byte)'\n');
                    if (pid is { } sampled && watch.Elapsed - lastSample > TimeSpan.FromMilliseconds(100))
                    {
                        lastSample = watch.Elapsed;
                        peakMb = Math.Max(peakMb ?? 0, ProcessMemory.ResidentMb(sampled) ?? 0);
                    }
                }

                var rows = lines - 1;
                if (rows != options.Clients)
                {
                    throw new InvalidOperationException($"The export streamed {rows:N0} rows, not {options.Clients:N0}.");
                }

                seconds.Add(watch.Elapsed.TotalSeconds);
                rates.Add(rows / watch.Elapsed.TotalSeconds);
                if (startMb is { } s && peakMb is { } m)
                {
                    peakGrowth = Math.Max(peakGrowth ?? 0, m - s);
                }
            }

            _results.Baselines["export rows/s"] = Math.Round(Stats.Median(rates));
            _results.Baselines["export seconds"] = Math.Round(Stats.Median(seconds), 3);
            if (peakGrowth is { } growth)
            {
                _results.Baselines["export memory growth MB"] = Math.Round(growth, 1);
            }

            Log($"shipped   export: {Stats.Median(rates):N0} rows/s, {Stats.Median(seconds):0.00} s{(peakGrowth is { } g ? $", resident memory +{g:0} MB at peak" : "")}");
        }

        var warmups = 0;
        using (var writer = new HttpLoad(api, endpoints.ApiKey("writer"), 1))
        {
            // Untimed batches first, as long as every read is warmed before it is timed: the endpoint's
            // code is compiled by the JIT's optimizing tier only after a few dozen calls, and each Postgres
            // backend runs its first insert into clients ~50 ms slower (the counters' trigger function is
            // compiled and planned, catalog caches filled).
            await writer.ClosedLoopAsync(1, TimeSpan.FromSeconds(options.WarmupSeconds), _ =>
                new HttpRequestSpec("POST", Operations.BatchPath, BatchBody(-1, Interlocked.Increment(ref warmups))), ct);
            // What Postgres spends on the batches' statements and on \copy (below): the batch's time minus
            // its statements' is the API's share.
            await pg.ExecuteAsync("SELECT pg_stat_statements_reset()", ct);
            var runs = new List<LoadResult>();
            for (var run = 0; run < options.Runs; run++)
            {
                var sequence = 0;
                var runId = run;
                runs.Add(await WithServerCpuAsync(pid, () => writer.ClosedLoopAsync(1, TimeSpan.FromSeconds(Seconds), _ =>
                    new HttpRequestSpec("POST", Operations.BatchPath, BatchBody(runId, Interlocked.Increment(ref sequence))), ct)));
            }

            var batch = Record("batch (1,000 creates)", Shipped, Measurement.Median("dotnet", 1, runs));
            if (batch.Errors > 0)
            {
                throw new InvalidOperationException($"{batch.Errors} batch requests failed.");
            }

            _results.Baselines["batch rows/s"] = Math.Round(batch.Rps * 1000);
        }

        var copyIn = new List<double>();
        for (var run = 0; run < options.Runs; run++)
        {
            var file = Path.Combine(_work, $"copy-in-{run}.csv");
            await File.WriteAllLinesAsync(file, Enumerable.Range(0, options.CopyInRows)
                .Select(i => $"Bench Copy {i},bench.copy.{run}.{i}@bench.nexuscore.test,active,{ProgramOf(i)}"), ct);
            var result = await pg.PsqlAsync([$"\\copy clients (name, email, status, program_type) FROM '{file}' WITH (FORMAT csv)"], ct);
            copyIn.Add(options.CopyInRows / result.Elapsed.TotalSeconds);
        }

        _results.Baselines["copy in rows/s"] = Math.Round(Stats.Median(copyIn));
        _results.WriteStatements.AddRange(await StatementStatsAsync(pg, ct, minCalls: 1));
        Log($"baseline  copy in: {Stats.Median(copyIn):N0} rows/s ({options.CopyInRows:N0} rows a run)");
    }

    private static string ProgramOf(int i) => (i % 3) switch { 0 => "PRIME", 1 => "LONGEVITY", _ => "PERFORMANCE" };

    private static string BatchBody(int run, int sequence)
    {
        var body = new StringBuilder("{\"mode\":\"atomic\",\"items\":[", 128 * 1024);
        for (var i = 0; i < 1000; i++)
        {
            if (i > 0)
            {
                body.Append(',');
            }

            body.Append(CultureInfo.InvariantCulture,
                $"{{\"op\":\"create\",\"name\":\"Bench Batch {i}\",\"email\":\"bench.batch.{run}.{sequence}.{i}@bench.nexuscore.test\",\"programType\":\"{ProgramOf(i)}\"}}");
        }

        return body.Append("]}").ToString();
    }

    /// <summary>
    /// Skewed reads from a cleared cache: GET by id with Zipf-distributed ids, a warm-up window of
    /// <see cref="BenchOptions.ZipfWarmupSeconds"/> (the cache reaches its steady state), then
    /// <see cref="BenchOptions.Runs"/> measured windows. Each window's hit rate comes from the
    /// instance's own statistics; its ideal is the share of requests for ids already asked for since
    /// the cache was cleared (an unbounded cache that never expires could do no better).
    /// </summary>
    private async Task<List<ZipfWindow>> ZipfAsync(Uri api, StackEndpoints endpoints, Fixtures fixtures, CancellationToken ct)
    {
        using var admin = new HttpLoad(api, endpoints.ApiKey("admin"), 2);
        using var load = new HttpLoad(api, endpoints.ApiKey("reader"), 16);
        (await admin.SendAsync(new HttpRequestSpec("POST", "/api/v1/cache/clear"), ct)).EnsureSuccessStatusCode();

        var zipf = new Zipf(fixtures.ReservedFrom - 1, options.ZipfExponent, seed: 7);
        var seen = new HashSet<long>();
        var gate = new object();
        long requests = 0, idealHits = 0;
        HttpRequestSpec Next(int worker)
        {
            long id;
            lock (gate)
            {
                id = zipf.NextId();
                requests++;
                if (!seen.Add(id))
                {
                    idealHits++;
                }
            }

            return new HttpRequestSpec("GET", Operations.ClientsApi + id.ToString(CultureInfo.InvariantCulture));
        }

        var windows = new List<ZipfWindow>();
        for (var window = 0; window <= options.Runs; window++)
        {
            var before = await FindStatisticsAsync(admin, ct);
            long startRequests, startIdeal;
            lock (gate)
            {
                (startRequests, startIdeal) = (requests, idealHits);
            }

            var result = await load.ClosedLoopAsync(16, TimeSpan.FromSeconds(window == 0 ? options.ZipfWarmupSeconds : Seconds), Next, ct);
            var after = await FindStatisticsAsync(admin, ct);
            long windowRequests, windowIdeal;
            lock (gate)
            {
                (windowRequests, windowIdeal) = (requests - startRequests, idealHits - startIdeal);
            }

            var hits = after.Hits - before.Hits;
            var misses = after.Misses - before.Misses;
            var rate = hits + misses == 0 ? 0 : Math.Round(100.0 * hits / (hits + misses), 2);
            var ideal = windowRequests == 0 ? 0 : Math.Round(100.0 * windowIdeal / windowRequests, 2);
            Log($"shipped   zipf window {window}{(window == 0 ? " (warm-up)" : "")}: {result.Requests:N0} requests, hit rate {rate:0.0}% (ideal {ideal:0.0}%), {result.Errors} errors");
            if (window > 0)
            {
                windows.Add(new ZipfWindow(window, result.Requests, Math.Round(result.Seconds, 2), hits, misses, rate, ideal));
            }
        }

        return windows;
    }

    private static async Task<(long Hits, long Misses)> FindStatisticsAsync(HttpLoad admin, CancellationToken ct)
    {
        using var statistics = await admin.Client.GetFromJsonAsync<JsonDocument>("/api/v1/cache/statistics", ct) ?? throw new InvalidOperationException("No cache statistics.");
        if (!statistics.RootElement.GetProperty("byQueryType").TryGetProperty("find", out var find))
        {
            return (0, 0);
        }

        // A stale entry served is a hit as far as Postgres is concerned.
        return (find.GetProperty("hits").GetInt64() + find.GetProperty("stale").GetInt64(), find.GetProperty("misses").GetInt64());
    }

    /// <summary>
    /// <see cref="BenchOptions.StampedeRequests"/> requests for one client no one has asked for, released
    /// at once over connections opened beforehand; pg_stat_statements counts the get-by-id queries they caused.
    /// </summary>
    private async Task<StampedeRun> StampedeAsync(string configuration, Uri api, string readerKey, long id, Postgres pg, CancellationToken ct)
    {
        var count = options.StampedeRequests;
        using var load = new HttpLoad(api, readerKey, count);
        await load.WarmConnectionsAsync(count, "/alive", ct);
        await pg.ExecuteAsync("SELECT pg_stat_statements_reset()", ct);

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var path = Operations.ClientsApi + id.ToString(CultureInfo.InvariantCulture);
        var requests = Enumerable.Range(0, count).Select(async _ =>
        {
            await release.Task;
            using var response = await load.Client.GetAsync(path, ct);
            var cache = response.Headers.TryGetValues("X-Cache", out var values) ? values.First() : "";
            return ((int)response.StatusCode, cache);
        }).ToList();

        var watch = Stopwatch.StartNew();
        release.SetResult();
        var answers = await Task.WhenAll(requests);
        var elapsed = watch.Elapsed.TotalSeconds;

        var queries = await pg.ScalarAsync<long>(
            $"SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query = {Fixtures.SqlLiteral(Operations.ProductGetSql)}", ct);
        var run = new StampedeRun(
            configuration, count, queries,
            answers.Count(a => a.Item1 == 200),
            answers.Count(a => a.cache is "MISS" or "BYPASS"),
            answers.Count(a => a.cache == "HIT"),
            Math.Round(elapsed, 3));
        Log($"{configuration,-9} stampede: {count} concurrent cold requests for client {id} → {queries} database queries, {run.Ok} × 200 ({run.Misses} miss, {run.Hits} hit) in {elapsed * 1000:0} ms");
        return run;
    }

    /// <summary>Steps the connection count up with Zipf reads (cache on) until p99 passes 100 ms or a request fails.</summary>
    private async Task ConcurrencyAsync(Uri api, string readerKey, Fixtures fixtures, CancellationToken ct)
    {
        var workload = new Workload("get-zipf", IdPath: Operations.ClientsApi, IdMax: fixtures.ReservedFrom - 1, ZipfExponent: options.ZipfExponent);
        var steps = new List<ConcurrencyStep>();
        int? highest = null;
        foreach (var connections in options.ConcurrencySteps)
        {
            var result = await HttpAsync($"get zipf c{connections}", Shipped, api, workload, connections, readerKey, ct);
            var held = result.Errors == 0 && result.P99Ms < 100;
            steps.Add(new ConcurrencyStep(connections, result, held));
            if (!held)
            {
                break;
            }

            highest = connections;
        }

        _results.Concurrency = new ConcurrencyResult(
            $"GET /api/v1/clients/{{id}}, ids Zipf-distributed (s = {options.ZipfExponent}) over every client, cache on", steps, highest);
    }

    /// <summary>
    /// The steady state a perfect TTL cache reaches under the same Zipf workload, with ClientsApi's
    /// eager-refresh threshold and without: at the rate measured here, and at 10× and 100× that.
    /// </summary>
    private List<ZipfModel> ZipfModels(StackEndpoints endpoints, Fixtures fixtures, IReadOnlyList<ZipfWindow> windows)
    {
        var env = endpoints.ClientsApiEnvironment;
        double Setting(string flat, string section, double fallback) =>
            double.TryParse(env.GetValueOrDefault(flat) ?? env.GetValueOrDefault(section), CultureInfo.InvariantCulture, out var configured) ? configured : fallback;
        var ttl = Setting("CACHE_TTL_FIND", "Cache__FindTtlSeconds", 300);

        // ClientsApi's default (CacheOptions.EagerRefreshThreshold) unless the stack was given another.
        var threshold = Setting("CACHE_EAGER_REFRESH", "Cache__EagerRefreshThreshold", 0.5);
        var measured = windows.Sum(w => w.Requests) / Math.Max(windows.Sum(w => w.Seconds), 1e-9);
        var n = fixtures.ReservedFrom - 1;
        return new[] { measured, measured * 10, measured * 100 }
            .Select(rate => new ZipfModel(Math.Round(rate), ttl, threshold,
                Math.Round(100 * Zipf.SteadyStateHitRate(n, options.ZipfExponent, rate, ttl, threshold), 1),
                Math.Round(100 * Zipf.SteadyStateHitRate(n, options.ZipfExponent, rate, ttl), 1)))
            .ToList();
    }

    private static Workload HotGet(Fixtures fixtures) =>
        new("get-hot", fixtures.HotIds.Select(id => new HttpRequestSpec("GET", Operations.ClientsApi + id.ToString(CultureInfo.InvariantCulture))).ToList());

    /// <summary>
    /// ClientsApi run by the harness with the environment the AppHost gave the shipped instance, plus
    /// <paramref name="overrides"/> (a null value removes a variable): the same as passing
    /// <c>--NexusCore:Services:clients-api:Environment:NAME=value</c> to the AppHost, without a second stack.
    /// </summary>
    private async Task<ServiceProcess> StartVariantAsync(
        StackEndpoints endpoints, string name, IReadOnlyDictionary<string, string?> overrides, CancellationToken ct)
    {
        var environment = endpoints.ClientsApiEnvironment.ToDictionary(StringComparer.Ordinal);
        environment["OTEL_SERVICE_NAME"] = $"clients-api-{name}";
        foreach (var (key, value) in overrides)
        {
            if (value is null)
            {
                environment.Remove(key);
            }
            else
            {
                environment[key] = value;
            }
        }

        return await ServiceProcess.StartAsync(
            endpoints.ClientsApiDll, Path.GetDirectoryName(endpoints.ClientsApiProject)!, environment, "/health",
            Path.Combine(_work, $"clients-api-{name}.log"), ct);
    }

    /// <summary>
    /// JIT and connection-pool warm-up, and each distinct request once (the cache's first fill), before
    /// anything is timed. The JIT's optimizing tiers (instrumented, then optimized with the profile)
    /// compile in the background, so a process keeps getting cheaper for a while under load: measured
    /// by hand, an uncached ClientsApi spent 1,600 µs of CPU per q search in its first 8 s, 950 in the
    /// next 8 s and about 510 from 16 s on. Load runs in rounds until the server's CPU per request in the
    /// last <see cref="WarmupSettledRounds"/> rounds is within <see cref="WarmupSettledChange"/> (at least
    /// <see cref="BenchOptions.WarmupSeconds"/>, at most <see cref="BenchOptions.MaxWarmupSeconds"/>).
    /// </summary>
    private async Task WarmAsync(string name, Uri api, string readerKey, IReadOnlyList<ReadOperation> reads, CancellationToken ct)
    {
        using var load = new HttpLoad(api, readerKey, 8);
        foreach (var spec in reads.SelectMany(r => r.After.Requests ?? []))
        {
            using var response = await load.SendAsync(spec, ct);
            response.EnsureSuccessStatusCode();
        }

        var all = reads.SelectMany(r => r.After.Requests ?? []).ToList();
        var next = 0;
        var pid = ServerPid(api);
        var round = TimeSpan.FromSeconds(Math.Max(1, Math.Min(options.WarmupSeconds, WarmupRoundSeconds)));
        var elapsed = TimeSpan.Zero;
        var rounds = new List<double?>();
        while (true)
        {
            var result = await WithServerCpuAsync(pid, () => load.ClosedLoopAsync(8, round, _ => all[Interlocked.Increment(ref next) % all.Count], ct));
            elapsed += round;
            rounds.Add(result.ServerCpuUs);

            // Settled when the last rounds agree: two rounds alone can look equal by the machine's noise.
            var last = rounds.TakeLast(WarmupSettledRounds).OfType<double>().ToList();
            var settled = last.Count == WarmupSettledRounds && last.Max() <= (1 + WarmupSettledChange) * last.Min();
            if ((settled && elapsed.TotalSeconds >= options.WarmupSeconds) || elapsed.TotalSeconds >= options.MaxWarmupSeconds || pid is null)
            {
                var summary = $"{elapsed.TotalSeconds:0} s, server CPU per request by round of {round.TotalSeconds:0} s (µs): {string.Join(", ", rounds.Select(r => r is { } cpu ? $"{cpu:0}" : "?"))}{(settled ? "" : " (not settled)")}";
                lock (_results.Warmups)
                {
                    _results.Warmups[name] = summary;
                }

                Log($"warm-up of {name}: {summary}");
                return;
            }
        }
    }

    /// <summary>Seconds per warm-up round.</summary>
    private const int WarmupRoundSeconds = 4;

    /// <summary>The warm-up ends when the last <see cref="WarmupSettledRounds"/> rounds' CPU per request are within this share of each other.</summary>
    internal const double WarmupSettledChange = 0.10;

    internal const int WarmupSettledRounds = 3;

    private string ToolName => _wrk is null ? "dotnet" : "wrk";

    /// <summary>pgbench needs a moment to authenticate its clients (SCRAM) before its first transaction.</summary>
    private int PgbenchSeconds => Math.Max(2, Seconds);

    private async Task<Measurement> HttpAsync(string name, string configuration, Uri baseUrl, Workload workload, int connections, string? apiKey, CancellationToken ct)
    {
        var runs = new List<LoadResult>();
        for (var run = 0; run < options.Runs; run++)
        {
            runs.Add(await HttpRunAsync(baseUrl, workload, connections, apiKey, ct));
        }

        return Record(name, configuration, Measurement.Median(ToolName, connections, runs));
    }

    private readonly Dictionary<int, int?> _serverPids = [];

    /// <summary>One timed run, with the CPU the server process (found by its listening port) spent on it.</summary>
    private async Task<LoadResult> HttpRunAsync(Uri baseUrl, Workload workload, int connections, string? apiKey, CancellationToken ct)
    {
        return await WithServerCpuAsync(ServerPid(baseUrl), () => _wrk is not null
            ? _wrk.RunAsync(baseUrl, workload, connections, Seconds, apiKey, ct)
            : DotnetLoadAsync(baseUrl, workload, connections, apiKey, ct));
    }

    /// <summary>The process listening on <paramref name="baseUrl"/>'s port, looked up once per port.</summary>
    private int? ServerPid(Uri baseUrl)
    {
        lock (_serverPids)
        {
            if (!_serverPids.TryGetValue(baseUrl.Port, out var pid))
            {
                _serverPids[baseUrl.Port] = pid = ProcessMemory.FindListener(baseUrl.Port);
            }

            return pid;
        }
    }

    /// <summary>A run's result with the CPU the server process <paramref name="pid"/> spent per request during it.</summary>
    private static async Task<LoadResult> WithServerCpuAsync(int? pid, Func<Task<LoadResult>> run)
    {
        var cpuBefore = pid is { } p ? ProcessMemory.CpuSeconds(p) : null;
        var result = await run();
        var cpuAfter = pid is { } q ? ProcessMemory.CpuSeconds(q) : null;
        return cpuBefore is { } a && cpuAfter is { } b && result.Requests > 0
            ? result with { ServerCpuUs = (b - a) * 1e6 / result.Requests }
            : result;
    }

    private sealed record Contender(string Name, string Configuration, string Tool, int Connections, Func<Task<LoadResult>> Run);

    /// <summary>Runs each contender once per round, round after round, so the ones compared in a ratio share the machine's ups and downs.</summary>
    private async Task InterleavedAsync(IReadOnlyList<Contender> contenders, int? rounds = null)
    {
        // Ratios compare contenders run one after the other on a shared machine: twice the rounds of a
        // single figure, so the median is less at the mercy of what else the machine did meanwhile.
        var runs = contenders.Select(_ => new List<LoadResult>()).ToList();
        for (var round = 0; round < (rounds ?? 2 * options.Runs); round++)
        {
            for (var i = 0; i < contenders.Count; i++)
            {
                runs[i].Add(await contenders[i].Run());
            }
        }

        for (var i = 0; i < contenders.Count; i++)
        {
            Record(contenders[i].Name, contenders[i].Configuration, Measurement.Median(contenders[i].Tool, contenders[i].Connections, runs[i]));
        }
    }

    private async Task<LoadResult> DotnetLoadAsync(Uri baseUrl, Workload workload, int connections, string? apiKey, CancellationToken ct)
    {
        using var load = new HttpLoad(baseUrl, apiKey, connections);
        if (workload.Requests is { } requests)
        {
            var next = 0;
            return await load.ClosedLoopAsync(connections, TimeSpan.FromSeconds(Seconds), _ => requests[(int)((uint)Interlocked.Increment(ref next) % requests.Count)], ct, workload.ThinkMs);
        }

        var zipf = workload.ZipfExponent > 0 ? new Zipf(workload.IdMax, workload.ZipfExponent, seed: 11) : null;
        var random = new Random(13);
        var gate = new object();
        return await load.ClosedLoopAsync(connections, TimeSpan.FromSeconds(Seconds), _ =>
        {
            long id;
            lock (gate)
            {
                id = zipf?.NextId() ?? random.NextInt64(1, workload.IdMax + 1);
            }

            return new HttpRequestSpec("GET", workload.IdPath + id.ToString(CultureInfo.InvariantCulture));
        }, ct, workload.ThinkMs);
    }

    private async Task<Measurement> PgbenchAsync(string name, string configuration, IReadOnlyList<string> scripts, int clients, CancellationToken ct)
    {
        var runs = new List<LoadResult>();
        for (var run = 0; run < options.Runs; run++)
        {
            runs.Add(await _pg!.PgbenchAsync(name, scripts, clients, PgbenchSeconds, ct));
        }

        return Record(name, configuration, Measurement.Median("pgbench", clients, runs));
    }

    private Measurement Record(string name, string configuration, Measurement measurement)
    {
        _measured[(name, configuration)] = measurement;
        _results.Measurements.Add(new NamedMeasurement(name, configuration, measurement));
        Log($"{configuration,-9} {name,-22} c={measurement.Connections,-3} p50 {measurement.P50Ms,8:0.000} ms  p99 {measurement.P99Ms,8:0.000} ms  {measurement.Rps,9:N0} req/s"
            + (measurement.ServerCpuUs is { } cpu ? $"  {cpu,6:0} µs CPU/req" : "")
            + (measurement.Errors > 0 ? $"  {measurement.Errors} errors" : ""));
        return measurement;
    }

    private Measurement Get(string name, string configuration) => _measured[(name, configuration)];

    private void Define(Fixtures fixtures)
    {
        var d = _results.Definitions;
        d[Before] = "The seed's starting point: no cache; the seed's SQL shapes (the aggregate get_client_dashboard_metrics(), "
            + "OFFSET pagination with count(*) of the matches, GROUP BY over the rows for analytics, one INSERT per row, 1,000-row OFFSET pages for export) "
            + "run by pgbench against bench_before.clients: a copy of the same rows with the V0001 index set (primary key and V0001's eight secondary indexes, "
            + "one GIN full-text) and no counter tables or triggers. Database time only: no HTTP, no API, so 'before' is flattered by the cost of a request.";
        d[Uncached] = "ClientsApi as shipped but with Cache__Enabled=false (the environment the AppHost gives clients-api, plus that one setting; "
            + "equivalent to --NexusCore:Services:clients-api:Environment:Cache__Enabled=false): every read queries Postgres with the product's SQL, indexes and counters.";
        d[Shipped] = "ClientsApi as the AppHost runs it: FusionCache memory + Redis + backplane, OpenTelemetry traces and metrics exported to PerfApi. "
            + "Reads are measured warm (each distinct request asked once first), so they are L1 hits.";
        d[OtelOn] = "ClientsApi started by the harness with exactly the shipped instance's environment: the 'on' side of the OpenTelemetry ratio, "
            + "so that on and off differ only in telemetry (the shipped instance's console output goes through Aspire's orchestrator, theirs to a file).";
        d[OtelAll] = "As otel-on, with Tracing__SampleRatio=1: every trace exported (to PerfApi, its query spans), as before tail sampling; "
            + "otel-on keeps a trace only when it is slow, failed or one of the 1 % sampled.";
        d[OtelOff] = "The shipped ClientsApi with PERFORMANCE_MONITORING=false (no query spans or nexuscore.query.duration), OTEL_SDK_DISABLED=true "
            + "(no OpenTelemetry tracing, metrics or logging providers: ASP.NET Core, HttpClient, Npgsql and runtime instrumentation all off) and no OTLP exporter.";
        d[Baseline] = "What bounds us on this machine: a minimal Kestrel app answering GET /plaintext (bench/NexusCore.Bench.Plaintext), "
            + "pgbench running ClientsApi's own get-by-id statement (same SQL text, extended protocol, random ids), psql \\copy in and out of the clients table.";
        d["stack"] = "The AppHost booted in local mode by Aspire's testing builder (no dashboard, so the dashboard's OTLP exporter is removed), "
            + "clients-api with every rate-limit bucket raised to 10,000,000/s (RateLimiting__*__PermitsPerSecond and __Burst) so the limiter (1,000 requests/s per key by default) does not cap the load. "
            + $"Load comes from a separate process over loopback; connections: {options.LatencyConnections} for the latency table, {options.ThroughputConnections} for throughput ratios. "
            + $"Rows named '@{options.PacedRate:N0}/s' are the reads with a p99 target (and the plaintext app beside them) at a steady offered load of {options.PacedRate:N0} requests/s: "
            + $"each of the {options.LatencyConnections} connections waits a random time (exponential, mean {options.LatencyConnections * 1000.0 / options.PacedRate:0.#} ms) before each request, "
            + "so the tail is measured below saturation rather than with every core busy; requests/s is what was achieved.";
        d["fixtures"] = $"Selective q: a seeded client's name ('{fixtures.SelectiveQ}'); filters: status=active&programType=PRIME; analytics: {fixtures.AnalyticsFrom:yyyy-MM-dd} to {fixtures.AnalyticsTo:yyyy-MM-dd} by week; "
            + $"by-ids: {Fixtures.IdListCount} lists of {Fixtures.IdsPerList} random ids taken in turn; get: {Fixtures.HotIdCount} hot ids (cached) or uniform over every client (uncached, before); "
            + $"deep page: {options.DeepPageOffset:N0} rows in, by OFFSET before and by a keyset cursor after.";
    }

    private void Summarize(Fixtures fixtures, IReadOnlyList<ReadOperation> reads)
    {
        foreach (var read in reads)
        {
            var before = Get(read.Key, Before).P50Ms;
            var uncached = Get(read.Key, Uncached).P50Ms;
            var after = Get(read.Key, Shipped).P50Ms;
            _results.Operations.Add(new OperationResult(
                read.Key, read.Title, "ms (p50)", Round(before), Round(uncached), Round(after),
                Improvement(before, after), Improvement(before, uncached), read.BeforeSql, AfterDefinition(read)));
        }

        var rowInsert = Get("row insert", Before);
        var batch = Get("batch (1,000 creates)", Shipped);
        var beforeBulkMs = 1_000_000 / Math.Max(rowInsert.Rps, 1e-9);
        _results.Operations.Add(new OperationResult(
            "bulk", "Bulk insert of 1,000 clients", "ms per 1,000 rows", Round(beforeBulkMs), null, Round(batch.P50Ms),
            Improvement(beforeBulkMs, batch.P50Ms), null,
            $"one INSERT per row, each its own transaction ({rowInsert.Rps:N0} rows/s)",
            $"POST batch with 1,000 creates, atomic ({_results.Baselines["batch rows/s"]:N0} rows/s)"));

        var exportPage = Get("export page", Before);
        var beforeExportRate = exportPage.Rps * 1000;
        var beforeExportSeconds = options.Clients / Math.Max(beforeExportRate, 1e-9);
        var afterExportSeconds = _results.Baselines["export seconds"];
        _results.Operations.Add(new OperationResult(
            "export", $"Export all {options.Clients:N0} clients (CSV)", "s", Round(beforeExportSeconds), null, Round(afterExportSeconds),
            Improvement(beforeExportSeconds, afterExportSeconds), null,
            $"1,000-row OFFSET pages ({beforeExportRate:N0} rows/s at the mean page depth)",
            $"GET bulk-export, one streamed query ({_results.Baselines["export rows/s"]:N0} rows/s)"));
        _results.Baselines["before export rows/s"] = Math.Round(beforeExportRate);
        _results.Baselines["before row insert rows/s"] = Math.Round(rowInsert.Rps);

        var plaintext = Get("plaintext", Baseline);
        var pgbenchGet = Get("get (product SQL)", Baseline);
        var cachedGet = Get("get (throughput)", Shipped);
        var uncachedGet = Get("get (throughput)", Uncached);
        var otelOff = Get("get (throughput)", OtelOff);
        var otelOn = Get("get (throughput)", OtelOn);
        var otelAll = Get("get (throughput)", OtelAll);
        _results.Baselines["plaintext req/s"] = Math.Round(plaintext.Rps);
        _results.Baselines["pgbench get tps"] = Math.Round(pgbenchGet.Rps);
        var b = _results.Baselines;
        _results.Ratios.AddRange(
        [
            Ratio("cached GET ÷ plaintext", "cached GET req/s", cachedGet.Rps, "plaintext req/s", plaintext.Rps, 0.5),
            Ratio("uncached GET ÷ pgbench (same SQL)", "uncached GET req/s", uncachedGet.Rps, "pgbench tps", pgbenchGet.Rps, 0.5),
            Ratio("batch ÷ COPY in", "batch rows/s", b["batch rows/s"], "COPY-in rows/s", b["copy in rows/s"], 0.5),
            Ratio("export ÷ COPY out", "export rows/s", b["export rows/s"], "COPY-out rows/s", b["copy out rows/s"], 0.5),
            Ratio("OpenTelemetry on ÷ off", "cached GET req/s, on", otelOn.Rps, "cached GET req/s, off", otelOff.Rps, 0.9),
            // Tail sampling records every span and decides per trace: that must cost less than exporting every trace.
            Ratio("tail sampling ÷ every trace exported", "cached GET req/s, on", otelOn.Rps, "cached GET req/s, Tracing:SampleRatio=1", otelAll.Rps, 1.0),
        ]);

        Targets();
    }

    /// <summary>Issue 3's uncached p99 targets: read key → (milliseconds, what).</summary>
    private static readonly IReadOnlyDictionary<string, (double Limit, string What)> P99Targets = new Dictionary<string, (double, string)>
    {
        ["dashboard"] = (5, "dashboard"),
        ["search-q"] = (25, "search first page, selective q"),
        ["search-filters"] = (50, "search first page, filters only"),
        ["analytics"] = (50, "analytics for a year"),
        ["by-ids"] = (5, "by-ids (100)"),
    };

    /// <summary>A measurement's name at the steady offered load (<see cref="BenchOptions.PacedRate"/>).</summary>
    private string Paced(string key) => string.Create(CultureInfo.InvariantCulture, $"{key} @{options.PacedRate:N0}/s");

    private void Targets()
    {
        var t = _results.Targets;
        // Judged at the latency table's connections; the one-connection figure is shown beside it.
        foreach (var (key, (limit, what)) in P99Targets)
        {
            var m = Get(key, Uncached);
            var one = Get(key + " c1", Uncached);
            var paced = Get(Paced(key), Uncached);
            var plain = Get(Paced("plaintext"), Baseline);
            t.Add(new TargetResult(
                "issue 3",
                $"{what}: p99 ≤ {limit} ms uncached",
                $"p99 {m.P99Ms:0.00} ms (p50 {m.P50Ms:0.00} ms, c={m.Connections}); over one connection p99 {one.P99Ms:0.00} ms (p50 {one.P50Ms:0.00} ms); "
                    + $"at {paced.Rps:N0} req/s offered steadily p99 {paced.P99Ms:0.00} ms (the plaintext app at {plain.Rps:N0} req/s: p99 {plain.P99Ms:0.00} ms)",
                m.P99Ms <= limit));
        }

        var b = _results.Baselines;
        var ratio = _results.Ratios.ToDictionary(r => r.Name);
        t.Add(new TargetResult("issue 3", "batch ≥ 0.5 × COPY-in rows/s", $"{ratio["batch ÷ COPY in"].Ratio:0.00} × ({b["batch rows/s"]:N0} vs {b["copy in rows/s"]:N0} rows/s)", ratio["batch ÷ COPY in"].Met));
        t.Add(new TargetResult("issue 3", "export ≥ 300,000 rows/s", $"{b["export rows/s"]:N0} rows/s", b["export rows/s"] >= 300_000));
        t.Add(new TargetResult("issue 3", "export ≥ 0.5 × COPY-out rows/s", $"{ratio["export ÷ COPY out"].Ratio:0.00} × ({b["export rows/s"]:N0} vs {b["copy out rows/s"]:N0} rows/s)", ratio["export ÷ COPY out"].Met));
        if (b.TryGetValue("export memory growth MB", out var growth))
        {
            t.Add(new TargetResult("issue 3", "export memory flat", $"resident memory +{growth:0} MB at peak while streaming {_results.Clients:N0} rows", growth < 64));
        }

        var cache = _results.Cache!;
        // What the cache adds to a request is judged against ClientsApi's own /alive, which runs through
        // the same Kestrel, exception handler, authentication and rate limiter; plaintext (a bare Kestrel
        // app) is reported beside it, since its difference also holds the middleware every request pays.
        t.Add(new TargetResult("issue 4", "an L1 hit adds ≤ 50 µs", $"+{cache.L1OverheadVsAliveMicroseconds:0} µs over ClientsApi's /alive at p50 (+{cache.L1OverheadMicroseconds:0} µs over a bare Kestrel plaintext app)", cache.L1OverheadVsAliveMicroseconds <= 50,
            "Over /alive: FastEndpoints routing and binding, the request's trace span (/alive is not traced), the L1 lookup, the query span and the cache headers. Over plaintext: also API-key authentication, the rate limiter and the rest of the middleware."));
        var model = cache.ZipfSteadyState[0];
        t.Add(new TargetResult("issue 4", "Zipf hit rate ≥ 90%",
            $"{cache.ZipfHitRatePercent:0.0}% measured after {cache.ZipfWarmupSeconds} s of reads from a cleared cache ({(cache.ZipfPastTtl ? "the steady state" : "still filling: no entry has reached the TTL")}), {cache.ZipfIdealHitRatePercent:0.0}% ideal for the same requests; "
                + $"in the steady state at {model.RequestsPerSecond:N0} requests/s a perfect {model.TtlSeconds:0} s TTL cache reaches {model.HitRatePercent:0.0}% with eager refresh at {model.EagerRefreshThreshold:0.##} of the TTL, {model.HitRatePercentWithoutRefresh:0.0}% without",
            cache.ZipfHitRatePercent >= 90));
        var shippedStampede = cache.Stampede.Where(s => s.Configuration == Shipped).ToList();
        t.Add(new TargetResult("issue 4", $"{options.StampedeRequests} concurrent cold requests for one key → 1 database query per instance",
            string.Join(", ", shippedStampede.Select(s => $"{s.DatabaseQueries} quer{(s.DatabaseQueries == 1 ? "y" : "ies")}")),
            shippedStampede.All(s => s.DatabaseQueries == 1 && s.Ok == s.Requests)));
        t.Add(new TargetResult("issue 7", "cached GET ≥ 0.5 × plaintext req/s", $"{ratio["cached GET ÷ plaintext"].Ratio:0.00} ×", ratio["cached GET ÷ plaintext"].Met));
        t.Add(new TargetResult("issue 7", "uncached GET by id ≥ 0.5 × pgbench tps", $"{ratio["uncached GET ÷ pgbench (same SQL)"].Ratio:0.00} ×", ratio["uncached GET ÷ pgbench (same SQL)"].Met));
        t.Add(new TargetResult("issue 7", "OpenTelemetry on ≥ 0.9 × off", $"{ratio["OpenTelemetry on ÷ off"].Ratio:0.00} ×", ratio["OpenTelemetry on ÷ off"].Met));
        if (_results.Concurrency is { } concurrency)
        {
            t.Add(new TargetResult("issue 7", "highest concurrency with zero errors and p99 < 100 ms",
                concurrency.HighestHeld is { } held ? $"{held} connections" : "none of the steps", concurrency.HighestHeld is not null));
        }
    }

    private string AfterDefinition(ReadOperation read) =>
        read.After.Requests is { Count: > 1 } requests ? $"{requests[0].Method} {Shorten(requests[0].Path)} (and {requests.Count - 1} more like it)" : $"{read.After.Requests![0].Method} {Shorten(read.After.Requests[0].Path)}";

    private static string Shorten(string path) => path.Length > 90 ? path[..90] + "…" : path;

    private static RatioResult Ratio(string name, string numerator, double numeratorValue, string denominator, double denominatorValue, double target) =>
        new(name, numerator, Math.Round(numeratorValue), denominator, Math.Round(denominatorValue),
            denominatorValue > 0 ? Math.Round(numeratorValue / denominatorValue, 3) : 0, target);

    private static double Improvement(double before, double after) => before > 0 ? Math.Round(100 * (1 - after / before), 1) : 0;

    private static double Round(double value) => Math.Round(value, value >= 100 ? 0 : value >= 1 ? 2 : 3);

    private void Log(string message)
    {
        output.WriteLine($"[bench {_clock.Elapsed:mm\\:ss}] {message}");
        output.Flush();
    }
}
