using System.Diagnostics;
using System.Text.Json;
using NexusCore.PerfApi.Features.Benchmark;
using NexusCore.PerfApi.Integrations;
using Polly;

namespace NexusCore.PerfApi.Benchmark;

/// <summary>What one run does: each operation in turn, for its share of the time or its number of requests.</summary>
public sealed record BenchmarkPlan(
    TimeSpan Duration, int RequestsPerOperation, int Concurrency, IReadOnlyList<BenchmarkOperation> Operations, RatingThresholds Ratings);

/// <summary>
/// Runs benchmarks against ClientsApi, one at a time: requests go through the typed <see cref="ClientsApiClient"/>
/// (service discovery, the standard resilience handler) with the key of the admin who asked for the run.
/// </summary>
public sealed class BenchmarkRunner(TimeProvider time)
{
    /// <summary>A request still running this long after its operation's time is up is abandoned and counted as an error.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Runs <paramref name="plan"/>; null at once when another benchmark is running.</summary>
    public async Task<IReadOnlyList<OperationResult>?> TryRunAsync(ClientsApiClient client, string callerKey, BenchmarkPlan plan, CancellationToken ct)
    {
        if (!await _gate.WaitAsync(0, ct))
        {
            return null;
        }

        try
        {
            var share = plan.Duration / Math.Max(1, plan.Operations.Count);
            var data = plan.Operations.Any(o => o.NeedsClients) ? await SampleAsync(client, callerKey, share, ct) : BenchmarkData.Empty;
            var results = new List<OperationResult>();
            foreach (var operation in plan.Operations)
            {
                results.Add(operation.NeedsClients && data.Ids.Count == 0
                    ? Skipped(operation, "ClientsApi returned no client to read.")
                    : await RunAsync(client, callerKey, operation, data, share, plan, ct));
            }

            return results;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<OperationResult> RunAsync(
        ClientsApiClient client, string callerKey, BenchmarkOperation operation, BenchmarkData data, TimeSpan share, BenchmarkPlan plan, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        hardStop.CancelAfter(share + Grace);
        var durations = new List<double>();
        var statuses = new Dictionary<string, int>(StringComparer.Ordinal);
        var cache = new Dictionary<string, int>(StringComparer.Ordinal);
        var gate = new Lock();
        var issued = 0;
        var errors = 0;

        async Task WorkAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref issued) - 1) < plan.RequestsPerOperation && time.GetElapsedTime(started) < share)
            {
                using var request = operation.Build(data, i);
                request.Headers.Add(ApiKeyAuthentication.HeaderName, callerKey);
                var sent = Stopwatch.GetTimestamp();
                string status;
                string? cacheOutcome = null;
                var failed = true;
                try
                {
                    using var response = await client.Http.SendAsync(request, hardStop.Token);
                    await response.Content.LoadIntoBufferAsync(hardStop.Token);
                    status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    cacheOutcome = response.Headers.TryGetValues("X-Cache", out var values) ? values.FirstOrDefault() : null;
                    failed = !response.IsSuccessStatusCode;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    status = "timeout";
                }
                catch (Exception ex) when (ex is HttpRequestException or ExecutionRejectedException)
                {
                    status = "unreachable";
                }

                var elapsed = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                lock (gate)
                {
                    durations.Add(elapsed);
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    if (cacheOutcome is not null)
                    {
                        cache[cacheOutcome] = cache.GetValueOrDefault(cacheOutcome) + 1;
                    }

                    errors += failed ? 1 : 0;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, plan.Concurrency).Select(_ => WorkAsync()));
        var seconds = Math.Max(1e-3, time.GetElapsedTime(started).TotalSeconds);
        durations.Sort();
        var p95 = Percentile(durations, 0.95);
        return new OperationResult(
            operation.Name,
            operation.Method,
            operation.Route,
            durations.Count,
            errors,
            durations.Count == 0 ? null : durations.Average(),
            Percentile(durations, 0.50),
            p95,
            Percentile(durations, 0.99),
            durations.Count == 0 ? null : durations[0],
            durations.Count == 0 ? null : durations[^1],
            durations.Count / seconds,
            Rate(p95, errors, plan.Ratings),
            statuses,
            cache,
            null);
    }

    /// <summary>Ids and search words from ClientsApi's first page of clients; none when it cannot be read.</summary>
    private static async Task<BenchmarkData> SampleAsync(ClientsApiClient client, string callerKey, TimeSpan budget, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(budget + Grace);
        using var request = new HttpRequestMessage(HttpMethod.Get, BenchmarkOperations.SamplePath);
        request.Headers.Add(ApiKeyAuthentication.HeaderName, callerKey);
        try
        {
            using var response = await client.Http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return BenchmarkData.Empty;
            }

            using var page = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token);
            return BenchmarkData.FromPage(page.RootElement);
        }
        catch (Exception ex) when (ex is HttpRequestException or ExecutionRejectedException or JsonException
            || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return BenchmarkData.Empty;
        }
    }

    /// <summary>Any error makes an operation poor; otherwise its p95 rates it. Null when nothing ran.</summary>
    public static BenchmarkRating? Rate(double? p95, int errors, RatingThresholds thresholds)
    {
        if (p95 is not { } value)
        {
            return null;
        }

        if (errors > 0)
        {
            return BenchmarkRating.Poor;
        }

        return value <= thresholds.ExcellentP95Ms ? BenchmarkRating.Excellent
            : value <= thresholds.GoodP95Ms ? BenchmarkRating.Good
            : BenchmarkRating.Poor;
    }

    /// <summary>Exact nearest-rank percentile of sorted values.</summary>
    public static double? Percentile(IReadOnlyList<double> sorted, double quantile)
    {
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(quantile * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    private static OperationResult Skipped(BenchmarkOperation operation, string why) => new(
        operation.Name, operation.Method, operation.Route, 0, 0, null, null, null, null, null, null, 0, null,
        new Dictionary<string, int>(), new Dictionary<string, int>(), why);
}
