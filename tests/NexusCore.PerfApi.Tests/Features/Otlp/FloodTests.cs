using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Metrics.V1;
using Xunit.Abstractions;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Otlp;

/// <summary>
/// Many hostile senders at once, for a fixed time, while ClientsApi serves real reads: PerfApi keeps answering, its
/// resident memory stays under the bound README states, and ClientsApi's series come out exact.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class FloodTests(PerfApiStack stack, ITestOutputHelper output)
{
    /// <summary>How long the hostile senders send.</summary>
    public static readonly TimeSpan FloodDuration = TimeSpan.FromSeconds(40);

    /// <summary>PerfApi's resident set may not pass this during the flood (README, "Ingest limits"; measured peaks 451–665 MB).</summary>
    public const long ResidentBoundMb = 900;

    private const string Protobuf = "application/x-protobuf";
    private readonly PerfApiClient _perf = new(stack);

    [Fact]
    public async Task HostileSendersForFortySecondsLeaveClientsApisSeriesExactAndPerfApiAnsweringWithinItsMemoryBound()
    {
        var ids = await CreateClientsAsync();
        var pid = PerfApiProcess();
        var residentBefore = ResidentMb(pid);
        var summaryBefore = await _perf.GetAsync("/api/v1/performance/telemetry/summary");
        var totalsBefore = await FindTotalsAsync();

        using var flood = new CancellationTokenSource(FloodDuration);
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var senders = new List<Task>();
        foreach (var (kind, copies) in new[] { ("cardinality-traces", 4), ("cardinality-metrics", 2), ("huge-strings", 2), ("bucket-bomb", 2), ("gzip-bomb", 2), ("span-bomb", 1), ("attribute-bomb", 1) })
        {
            for (var copy = 0; copy < copies; copy++)
            {
                senders.Add(SendAsync(kind, copy, outcomes, flood.Token));
            }
        }

        var real = ReadAsync(ids, flood.Token);
        var watch = WatchAsync(pid, flood.Token);
        await Task.WhenAll(senders);
        var (requests, hits, misses) = await real;
        var (peakMb, probes, slowestProbe) = await watch;

        var residentAfter = ResidentMb(pid);
        output.WriteLine($"PerfApi pid {pid}: resident {residentBefore} MB before, peak {peakMb} MB during {FloodDuration.TotalSeconds:0} s of flood, {residentAfter} MB after");
        output.WriteLine($"real traffic: {requests} reads ({hits} hits, {misses} misses); {probes} health and summary probes, slowest {slowestProbe.TotalMilliseconds:0} ms");
        foreach (var (outcome, count) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {outcome}: {count}");
        }

        // Everything PerfApi accepted is aggregated behind its queue: wait for ClientsApi's spans to be in.
        var totals = await Eventually.WaitAsync(async () =>
        {
            var now = await FindTotalsAsync();
            return now.Count >= totalsBefore.Count + requests ? JsonSerializer.SerializeToElement(new { now.Count, now.Hits, now.Misses }) : null;
        }, $"ClientsApi's {requests} find spans after the flood (before: {totalsBefore})", TimeSpan.FromSeconds(60));
        var summary = await _perf.GetAsync("/api/v1/performance/telemetry/summary");
        output.WriteLine($"summary: {summary.GetProperty("payloads")} {summary.GetProperty("spans")} {summary.GetProperty("metricPoints")} {summary.GetProperty("store")}");

        // ClientsApi's reads are all there, exactly, hits and misses as its X-Cache headers said.
        Assert.Equal(totalsBefore.Count + requests, totals.Long("Count"));
        Assert.Equal(totalsBefore.Hits + hits, totals.Long("Hits"));
        Assert.Equal(totalsBefore.Misses + misses, totals.Long("Misses"));
        Assert.True(requests >= 50, $"only {requests} real reads ran");

        // Its metric series are in too: its connection pools, from Npgsql's metrics.
        var pools = (await _perf.GetAsync("/api/v1/performance/metrics")).GetProperty("connectionPool").Items("pools");
        Assert.Contains(pools, p => p.Text("service") == "clients-api");

        // PerfApi answered throughout (every probe, each within 10 s, on a machine this flood saturates), within its memory bound.
        Assert.True(probes >= 10, $"{probes} probes");
        Assert.True(peakMb < ResidentBoundMb, $"PerfApi's resident set peaked at {peakMb} MB, above {ResidentBoundMb} MB");

        // Each kind of attack met the limit meant for it, and nothing was a server error.
        Assert.DoesNotContain(outcomes.Keys, o => o.Contains(" 5", StringComparison.Ordinal));
        Assert.Contains("cardinality-traces 200", outcomes.Keys);
        Assert.Contains("cardinality-metrics 200", outcomes.Keys);
        Assert.Contains("huge-strings 200", outcomes.Keys);
        Assert.Contains("bucket-bomb 400 too_many_buckets", outcomes.Keys);
        Assert.Contains("gzip-bomb 413 payload_too_large", outcomes.Keys);
        Assert.Contains("span-bomb 413 too_many_spans", outcomes.Keys);
        Assert.Contains("attribute-bomb 400 too_many_attributes", outcomes.Keys);
        var payloads = summary.GetProperty("payloads");
        Assert.True(payloads.Long("truncated") > summaryBefore.GetProperty("payloads").Long("truncated"));
        Assert.True(summary.GetProperty("spans").Long("seriesEvicted") > summaryBefore.GetProperty("spans").Long("seriesEvicted"));
        Assert.True(summary.GetProperty("spans").Long("statementsEvicted") > summaryBefore.GetProperty("spans").Long("statementsEvicted"));
        Assert.True(summary.GetProperty("metricPoints").Long("seriesEvicted") > summaryBefore.GetProperty("metricPoints").Long("seriesEvicted"));
        var store = summary.GetProperty("store");
        Assert.True(store.Long("querySeries") <= store.Long("maxQuerySeries") && store.Long("metricSeries") <= store.Long("maxMetricSeries"));
    }

    private async Task SendAsync(string kind, int copy, ConcurrentDictionary<string, int> outcomes, CancellationToken flood)
    {
        using var http = stack.CreateClient("perf-api", "ingest");
        http.Timeout = TimeSpan.FromSeconds(30);
        var random = new Random(HashCode.Combine(kind, copy));
        var fixedBodies = new Dictionary<string, (string Path, byte[] Body, bool Gzip)>
        {
            ["gzip-bomb"] = ("/v1/metrics", Gzip(new byte[64 * 1024 * 1024]), true),
            ["span-bomb"] = ("/v1/traces", Gzip(EmptySpans(2_000_000)), true),
            ["attribute-bomb"] = ("/v1/traces", TraceRequest("hostile-attributes", Span(DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1),
                [.. Enumerable.Range(0, 10_000).Select(i => Attribute($"a{i}", i))])).ToByteArray(), false),
        };
        while (!flood.IsCancellationRequested)
        {
            var (path, body, gzip) = fixedBodies.TryGetValue(kind, out var fixedBody) ? fixedBody : kind switch
            {
                "cardinality-traces" => ("/v1/traces", CardinalityTraces(copy, random).ToByteArray(), false),
                "cardinality-metrics" => ("/v1/metrics", CardinalityMetrics(copy, random).ToByteArray(), false),
                "huge-strings" => ("/v1/traces", HugeStrings(random).ToByteArray(), false),
                _ => ("/v1/metrics", BucketBomb().ToByteArray(), false),
            };
            string outcome;
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue(Protobuf);
                if (gzip)
                {
                    content.Headers.ContentEncoding.Add("gzip");
                }

                using var response = await http.PostAsync(path, content, CancellationToken.None);
                var code = "";
                if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
                {
                    var problem = await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None);
                    code = problem.TryGetProperty("errors", out var errors) && errors.GetArrayLength() > 0 ? " " + errors[0].Text("code") : "";
                }

                outcome = $"{kind} {(int)response.StatusCode}{code}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                outcome = $"{kind} no answer: {ex.GetType().Name}";
            }

            outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        }
    }

    /// <summary>2,000 query spans, each of a new series and a new statement.</summary>
    private static ExportTraceServiceRequest CardinalityTraces(int copy, Random random)
    {
        var now = DateTimeOffset.UtcNow;
        var spans = Enumerable.Range(0, 2000).Select(i => i % 2 == 0
            ? Span(now, TimeSpan.FromMilliseconds(random.Next(1, 500)),
                Attribute("nexuscore.query.type", "find"), Attribute("db.collection.name", $"t{random.NextInt64():x}"), Attribute("db.operation.name", $"op{random.NextInt64():x}"))
            : Span(now, TimeSpan.FromMilliseconds(random.Next(1, 500)),
                Attribute("db.system.name", "postgresql"), Attribute("db.query.text", $"SELECT c{random.NextInt64():x} FROM t{random.NextInt64():x} WHERE id = $1")));
        return TraceRequest($"hostile-traces-{copy}", [.. spans]);
    }

    /// <summary>2,200 points of new series: gauges with random attributes, histograms of 160 buckets (half the most allowed), and query durations of new keys.</summary>
    private static ExportMetricsServiceRequest CardinalityMetrics(int copy, Random random)
    {
        var now = DateTimeOffset.UtcNow;
        var gauges = Gauge("hostile.gauge", "1", [.. Enumerable.Range(0, 1800).Select(i => Number(now, now, i, Attribute("id", $"{random.NextInt64():x}"), Attribute("other", $"{random.NextInt64():x}")))]);
        var bounds = Enumerable.Range(1, 159).Select(i => (double)i).ToArray();
        var histograms = Histogram("hostile.histogram", "s", AggregationTemporality.Delta,
            [.. Enumerable.Range(0, 200).Select(_ => HistogramPoint(now.AddSeconds(-1), now, 1, bounds, [.. Enumerable.Repeat(1UL, 160)], Attribute("id", $"{random.NextInt64():x}")))]);
        // And new query roll-up keys: the duration histogram with random tables and operations.
        var queries = ExponentialHistogram("nexuscore.query.duration", "s", AggregationTemporality.Delta,
            [.. Enumerable.Range(0, 200).Select(_ => ExponentialPoint(now.AddSeconds(-1), now, 4, [0.002],
                Attribute("nexuscore.query.type", "find"), Attribute("db.collection.name", $"t{random.NextInt64():x}"), Attribute("db.operation.name", $"op{random.NextInt64():x}")))]);
        return MetricRequest($"hostile-metrics-{copy}", $"instance-{random.Next()}", gauges, histograms, queries);
    }

    /// <summary>A 64 KB service name, 300 KB statements and 100 KB table names: nearly 4 MB in all.</summary>
    private static ExportTraceServiceRequest HugeStrings(Random random)
    {
        var now = DateTimeOffset.UtcNow;
        var letter = (char)('a' + random.Next(26));
        var spans = Enumerable.Range(0, 10).Select(i => Span(now, TimeSpan.FromMilliseconds(3),
            Attribute("db.system.name", "postgresql"),
            Attribute("db.collection.name", new string(letter, 100_000) + i),
            Attribute("db.query.text", "SELECT " + new string(letter, 300_000) + $" FROM t{random.Next()}")));
        return TraceRequest(new string(letter, 64 * 1024) + random.Next(), [.. spans]);
    }

    private static ExportMetricsServiceRequest BucketBomb()
    {
        var now = DateTimeOffset.UtcNow;
        var point = HistogramPoint(now.AddSeconds(-1), now, 1, [.. Enumerable.Range(1, 50_000).Select(i => (double)i)], new ulong[50_001]);
        return MetricRequest("hostile-buckets", Histogram("hostile.buckets", "s", AggregationTemporality.Delta, point));
    }

    /// <summary>Real reads of ClientsApi, paced, counted by its own X-Cache answer.</summary>
    private async Task<(long Requests, long Hits, long Misses)> ReadAsync(IReadOnlyList<long> ids, CancellationToken flood)
    {
        var reader = stack.CreateClient("clients-api", "reader");
        long requests = 0, hits = 0, misses = 0;
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        while (!flood.IsCancellationRequested)
        {
            var response = await reader.GetAsync($"/api/v1/clients/{ids[(int)(requests % ids.Count)]}", CancellationToken.None);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            requests++;
            if (response.Headers.GetValues("X-Cache").Single() is "HIT" or "STALE")
            {
                hits++;
            }
            else
            {
                misses++;
            }

            await pace.WaitForNextTickAsync(CancellationToken.None);
        }

        return (requests, hits, misses);
    }

    /// <summary>Every half second: PerfApi's resident set, and health and the telemetry summary answering 200 within 10 s.</summary>
    private async Task<(long PeakMb, int Probes, TimeSpan Slowest)> WatchAsync(int pid, CancellationToken flood)
    {
        var anonymous = stack.CreateClient("perf-api");
        long peak = 0;
        var probes = 0;
        var slowest = TimeSpan.Zero;
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (!flood.IsCancellationRequested)
        {
            peak = Math.Max(peak, ResidentMb(pid));
            var started = Stopwatch.GetTimestamp();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var health = await anonymous.GetAsync("/api/v1/performance/health", deadline.Token);
            var summary = await _perf.Http.GetAsync("/api/v1/performance/telemetry/summary", deadline.Token);
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (health.StatusCode, summary.StatusCode));
            slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, Stopwatch.GetElapsedTime(started).Ticks));
            probes++;
            await tick.WaitForNextTickAsync(CancellationToken.None);
        }

        return (Math.Max(peak, ResidentMb(pid)), probes, slowest);
    }

    private async Task<List<long>> CreateClientsAsync()
    {
        var writer = stack.CreateClient("clients-api", "writer");
        var ids = new List<long>();
        foreach (var name in new[] { "Ada Lovelace", "Alan Turing", "Katherine Johnson", "John Backus" })
        {
            // A test before this one may have stopped Postgres: ClientsApi answers 503 until it is back.
            await Eventually.ThatAsync(async () =>
            {
                var created = await writer.PostAsJsonAsync("/api/v1/clients", new { name, email = $"flood.{Guid.NewGuid():N}@example.com", programType = "PRIME" });
                if (created.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    return false;
                }

                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                ids.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).Long("id"));
                return true;
            }, TimeSpan.FromSeconds(60), "ClientsApi accepting writes", TimeSpan.FromMilliseconds(500));
        }

        return ids;
    }

    private async Task<(long Count, long Hits, long Misses)> FindTotalsAsync()
    {
        var find = (await _perf.GetAsync("/api/v1/performance/analytics?window=1h")).Items("series")
            .Where(s => s.Text("service") == "clients-api" && s.Text("queryType") == "find").ToList();
        return (find.Sum(s => s.Long("count")), find.Sum(s => s.Long("cacheHits")), find.Sum(s => s.Long("cacheMisses")));
    }

    /// <summary>PerfApi's own process in its resource's tree (below <c>dotnet run</c>, if it runs under it).</summary>
    private int PerfApiProcess()
    {
        var tree = stack.ProcessTree("perf-api");
        var commands = tree.ToDictionary(pid => pid, pid => File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries));
        var service = commands.Where(c => c.Value.Length > 0 && (c.Value[0].EndsWith("/NexusCore.PerfApi", StringComparison.Ordinal)
            || c.Value.Any(a => a.EndsWith("NexusCore.PerfApi.dll", StringComparison.Ordinal)))).Select(c => c.Key).ToList();
        Assert.True(service.Count == 1, "PerfApi's process among " + string.Join("; ", commands.Select(c => $"{c.Key}: {string.Join(' ', c.Value)}")));
        return service[0];
    }

    /// <summary>VmRSS of a process, in MB of 2^20 bytes.</summary>
    private static long ResidentMb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
    }
}
