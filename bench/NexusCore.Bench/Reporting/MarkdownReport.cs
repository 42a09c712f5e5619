using System.Globalization;
using System.Text;

namespace NexusCore.Bench.Reporting;

/// <summary>Renders a run as the Markdown committed next to its JSON (and printed at the end of the run).</summary>
public static class MarkdownReport
{
    public static string Render(BenchResults r)
    {
        var md = new StringBuilder();
        var m = r.Machine;
        md.AppendLine(Invariant($"# NexusCore benchmark: {r.Clients:N0} clients ({r.Mode} run, {r.Date})"));
        md.AppendLine();
        md.AppendLine(Invariant($"`{r.Command}` on {m.Cores} cores ({m.Cpu}), {m.MemoryGb} GB, {m.Os}, {m.Runtime}, commit `{m.GitCommit}`. "));
        md.AppendLine(Invariant($"Load average {m.LoadAverageAtStart} at the start and {r.LoadAverageAtEnd} at the end (1, 5, 15 min): other work on the machine lowers every figure. "));
        md.AppendLine(Invariant($"HTTP load: {r.Tools.GetValueOrDefault("http load")}; database load: {r.Tools.GetValueOrDefault("pgbench")}. "));
        md.AppendLine(Invariant($"Every figure is the median of {r.Runs} run(s) of {r.DurationSeconds} s ({2 * r.Runs} for the figures of a ratio, run alternating); the whole run took {r.TotalSeconds:0} s."));
        md.AppendLine();

        md.AppendLine("## The seed's table");
        md.AppendLine();
        md.AppendLine(SeedTable(r));
        md.AppendLine("Improvement is 1 − after ÷ before. Read operations show p50 latency at "
            + Invariant($"{LatencyConnections(r)} connections; p95, p99 and requests/s are in the next table."));
        md.AppendLine();
        foreach (var (name, text) in r.Definitions)
        {
            md.AppendLine(Invariant($"- **{name}**: {text}"));
        }

        md.AppendLine();
        md.AppendLine("| Operation | Before (seed SQL) | After |");
        md.AppendLine("|---|---|---|");
        foreach (var op in r.Operations)
        {
            md.AppendLine(Invariant($"| {op.Title} | {Escape(op.BeforeDefinition)} | {Escape(op.AfterDefinition)} |"));
        }

        md.AppendLine();
        md.AppendLine("## Latency and throughput");
        md.AppendLine();
        md.AppendLine("| Configuration | Measurement | Connections | p50 ms | p95 ms | p99 ms | max ms | requests/s | server CPU µs/request | errors | tool |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var (name, configuration, x) in r.Measurements)
        {
            var cpu = x.ServerCpuUs is { } us ? us.ToString("N0", CultureInfo.InvariantCulture) : "—";
            md.AppendLine(Invariant($"| {configuration} | {name} | {x.Connections} | {x.P50Ms:0.000} | {x.P95Ms:0.000} | {x.P99Ms:0.000} | {x.MaxMs:0.0} | {x.Rps:N0} | {cpu} | {x.Errors} | {x.Tool} |"));
        }

        md.AppendLine();
        md.AppendLine("Server CPU is what the process answering (ClientsApi or the plaintext app) spent per request, read from /proc: "
            + "it moves far less than requests/s when other work shares the machine.");

        StatementTable(md, "Postgres time of the uncached reads (pg_stat_statements)",
            "While the uncached reads above ran: each statement's mean execution time inside Postgres (planning excluded). "
            + "An uncached request's p50 minus these is the API's share (HTTP, auth, pool, serialization, telemetry, logging) and waiting for a CPU.",
            r.UncachedStatements);
        StatementTable(md, "Postgres time of the writes (pg_stat_statements)",
            "While the timed batches of 1,000 creates and the psql \\copy runs of the COPY-in baseline ran: each statement's mean execution time "
            + "inside Postgres. A batch's mean time minus its statements' is the API's share (HTTP, JSON, validation, telemetry, cache invalidation) and waiting for a CPU.",
            r.WriteStatements);

        md.AppendLine();
        md.AppendLine("## Against the machine's limits");
        md.AppendLine();
        md.AppendLine("| Ratio | Ours | Bound | Ratio | Target | Met |");
        md.AppendLine("|---|---:|---:|---:|---:|---|");
        foreach (var x in r.Ratios)
        {
            md.AppendLine(Invariant($"| {x.Name} | {x.NumeratorValue:N0} {x.Numerator} | {x.DenominatorValue:N0} {x.Denominator} | {x.Ratio:0.00} | ≥ {x.Target:0.0} | {Mark(x.Met)} |"));
        }

        md.AppendLine();
        md.AppendLine("| Baseline | Value |");
        md.AppendLine("|---|---:|");
        foreach (var (name, value) in r.Baselines)
        {
            md.AppendLine(Invariant($"| {name} | {Format(value)} |"));
        }

        if (r.Concurrency is { } c)
        {
            md.AppendLine();
            md.AppendLine("## Concurrency");
            md.AppendLine();
            md.AppendLine(Invariant($"{c.Workload}. Held: zero errors and p99 under 100 ms. Highest held: **{(c.HighestHeld is { } h ? h.ToString(CultureInfo.InvariantCulture) + " connections" : "none")}**."));
            md.AppendLine();
            md.AppendLine("| Connections | requests/s | p50 ms | p99 ms | errors | held |");
            md.AppendLine("|---:|---:|---:|---:|---:|---|");
            foreach (var step in c.Steps)
            {
                md.AppendLine(Invariant($"| {step.Connections} | {step.Result.Rps:N0} | {step.Result.P50Ms:0.00} | {step.Result.P99Ms:0.00} | {step.Result.Errors} | {Mark(step.Held)} |"));
            }
        }

        if (r.Cache is { } cache)
        {
            md.AppendLine();
            md.AppendLine("## Cache");
            md.AppendLine();
            md.AppendLine(Invariant($"- L1 hit, one connection, p50: cached GET {cache.CachedGetP50Ms * 1000:0} µs, plaintext {cache.PlaintextP50Ms * 1000:0} µs, ClientsApi's /alive {cache.AliveP50Ms * 1000:0} µs: +{cache.L1OverheadMicroseconds:0} µs over plaintext, +{cache.L1OverheadVsAliveMicroseconds:0} µs over /alive."));
            md.AppendLine(Invariant($"- Zipf reads (s = {cache.ZipfExponent}, GET by id over every client, 16 connections) after `POST /api/v1/cache/clear` and {cache.ZipfWarmupSeconds} s of the same reads ({(cache.ZipfPastTtl ? "past the find TTL: the steady state" : "shorter than the find TTL: the cache is still filling; `--zipf-warmup 330` measures the steady state")}), then:"));
            md.AppendLine();
            md.AppendLine("| Window | Requests | requests/s | Hits | Misses | Hit rate | Ideal hit rate |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var w in cache.ZipfWindows)
            {
                md.AppendLine(Invariant($"| {w.Index} | {w.Requests:N0} | {w.Requests / Math.Max(w.Seconds, 1e-9):N0} | {w.Hits:N0} | {w.Misses:N0} | {w.HitRatePercent:0.0}% | {w.IdealHitRatePercent:0.0}% |"));
            }

            md.AppendLine();
            md.AppendLine("  Hits and misses come from the instance's `GET /api/v1/cache/statistics` (find) before and after each window. "
                + "The ideal is the share of requests for ids already asked for since the clear: what a cache that never evicts nor expires could reach.");
            md.AppendLine();
            md.AppendLine("  Steady state of a perfect cache with the find TTL under this workload, with ClientsApi's eager refresh (a key read at rate r misses only when no read falls between the threshold and the TTL) and without it (one miss per TTL, then r·TTL hits): "
                + string.Join(", ", cache.ZipfSteadyState.Select(z => Invariant($"{z.HitRatePercent:0.0}% (without refresh {z.HitRatePercentWithoutRefresh:0.0}%) at {z.RequestsPerSecond:N0} requests/s"))) + ".");
            md.AppendLine();
            md.AppendLine("| Stampede | Requests | Database queries (pg_stat_statements) | 200s | X-Cache MISS/BYPASS | X-Cache HIT | Seconds |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var s in cache.Stampede)
            {
                md.AppendLine(Invariant($"| {s.Configuration} | {s.Requests} | {s.DatabaseQueries} | {s.Ok} | {s.Misses} | {s.Hits} | {s.Seconds:0.000} |"));
            }
        }

        var fixedCost = r.Measurements.Where(x => x.Name is "alive" or "alive c1" or "plaintext" or "plaintext c1" || (x.Name is "get (throughput)" or "get c1" && x.Configuration == "shipped")).ToList();
        if (fixedCost.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## The fixed cost of a request");
            md.AppendLine();
            md.AppendLine("Server CPU per request (user + system of the serving process, µs) beside requests/s, runs alternating: the bare Kestrel app, ClientsApi's `/alive` (no authentication, no cache) and a cached GET by id (authentication, rate limiter, FastEndpoints, L1 hit, telemetry).");
            md.AppendLine();
            md.AppendLine("| Request | Connections | requests/s | CPU µs per request | p50 |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var cost in fixedCost.OrderBy(x => x.Result.Connections).ThenBy(x => x.Result.ServerCpuUs))
            {
                md.AppendLine(Invariant($"| {cost.Name} ({cost.Configuration}) | {cost.Result.Connections} | {cost.Result.Rps:N0} | {cost.Result.ServerCpuUs:0.0} | {cost.Result.P50Ms * 1000:0} µs |"));
            }
        }

        if (r.Telemetry is { } telemetry)
        {
            md.AppendLine();
            md.AppendLine("## Telemetry");
            md.AppendLine();
            md.AppendLine("PerfApi's percentiles (from the `nexuscore.query.duration` histogram a ClientsApi variant exported) against the exact nearest rank of the same requests' query spans (every trace sampled, recorded by the harness):");
            md.AppendLine();
            md.AppendLine("| Series | Spans | PerfApi count | p50 exact | p50 PerfApi | p99 exact | p99 PerfApi | p99 error |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var check in telemetry.Percentiles)
            {
                md.AppendLine(Invariant($"| {check.Series} | {check.ExactCount:N0} | {check.PerfApiCount:N0} | {check.ExactP50Ms:0.000} ms | {check.PerfApiP50Ms:0.000} ms | {check.ExactP99Ms:0.000} ms | {check.PerfApiP99Ms:0.000} ms | {check.P99ErrorPercent:0.00}% |"));
            }

            md.AppendLine();
            md.AppendLine(Invariant($"Ingest: the recorded payloads (metrics as delta copies, spans renamed) replayed into PerfApi by 4 senders for {telemetry.ReplaySeconds:0.0} s: {telemetry.ReplayPayloads:N0} payloads ({telemetry.ReplayRefused:N0} refused), {telemetry.ReplayItemsReceived:N0} data points and spans received ({telemetry.ReplayItemsPerSecond:N0}/s), {telemetry.ReplayCpuSeconds} s of PerfApi CPU: **{telemetry.ReplayItemsPerCpuSecond:N0} per CPU-second**; PerfApi resident memory {telemetry.PerfApiRssBeforeMb} MB before, {telemetry.PerfApiRssPeakMb} MB at peak."));
        }

        md.AppendLine();
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| Source | Target | Measured | Met |");
        md.AppendLine("|---|---|---|---|");
        foreach (var t in r.Targets)
        {
            md.AppendLine(Invariant($"| {t.Source} | {t.Target} | {Escape(t.Measured)}{(t.Note is null ? "" : " — " + Escape(t.Note))} | {Mark(t.Met)} |"));
        }

        md.AppendLine();
        md.AppendLine("## Setup");
        md.AppendLine();
        foreach (var (name, seconds) in r.SetupSeconds)
        {
            md.AppendLine(Invariant($"- {name}: {seconds:0.0} s"));
        }

        md.AppendLine(Invariant($"- seed rate: {r.SeedRowsPerSecond:N0} rows/s (the migrator's process start included)"));
        foreach (var (name, warmup) in r.Warmups)
        {
            md.AppendLine(Invariant($"- warm-up, {name} (until the server's CPU per request in {Harness.WarmupSettledRounds} rounds in a row is within {Harness.WarmupSettledChange:P0}): {warmup}"));
        }

        foreach (var (name, version) in r.Tools)
        {
            md.AppendLine(Invariant($"- {name}: {version}"));
        }

        if (r.Notes.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Notes");
            md.AppendLine();
            foreach (var note in r.Notes)
            {
                md.AppendLine("- " + note);
            }
        }

        return md.ToString();
    }

    /// <summary>The seed's table alone (also what README shows).</summary>
    public static string SeedTable(BenchResults r)
    {
        var md = new StringBuilder();
        md.AppendLine("| Operation | Before | After, cache off | After (shipped) | Improvement | Improvement, cache off |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var op in r.Operations)
        {
            var unit = op.Unit.StartsWith("ms", StringComparison.Ordinal) ? " ms" : " s";
            var suffix = op.Unit.Contains("per 1,000", StringComparison.Ordinal) ? " per 1,000 rows" : "";
            md.AppendLine(Invariant($"| {op.Title} | {Format(op.Before)}{unit}{suffix} | {(op.AfterUncached is { } u ? Format(u) + unit : "—")} | {Format(op.After)}{unit} | {op.ImprovementPercent:0.0}% | {(op.ImprovementUncachedPercent is { } iu ? iu.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "—")} |"));
        }

        return md.ToString();
    }

    private static int LatencyConnections(BenchResults r) =>
        r.Measurements.FirstOrDefault(x => x.Configuration == "shipped" && x.Name == "dashboard")?.Result.Connections ?? 0;

    private static string Format(double value) =>
        value >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value >= 1 ? value.ToString("0.00", CultureInfo.InvariantCulture) : value.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Mark(bool met) => met ? "✅" : "❌";

    private static void StatementTable(StringBuilder md, string title, string intro, IReadOnlyList<StatementStat> statements)
    {
        if (statements.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("### " + title);
        md.AppendLine();
        md.AppendLine(intro);
        md.AppendLine();
        md.AppendLine("| Statement | Calls | Mean ms | Rows/call | Buffer hits |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var s in statements)
        {
            md.AppendLine(Invariant($"| `{Escape(s.Query)}` | {s.Calls:N0} | {s.MeanMs:0.000} | {s.RowsPerCall:0.#} | {s.BufferHitPercent:0.0}% |"));
        }
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
