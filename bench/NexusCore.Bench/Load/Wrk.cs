using System.Globalization;
using System.Text.Json;

namespace NexusCore.Bench.Load;

/// <summary>One HTTP request of a workload: method, path and optional JSON body.</summary>
public sealed record HttpRequestSpec(string Method, string Path, string? Body = null);

/// <summary>
/// What a load generator sends: a fixed list of requests taken in turn, or GETs of
/// <c>IdPath + id</c> with ids drawn uniformly or Zipf-distributed from 1..<c>IdMax</c>. With
/// <paramref name="ThinkMs"/> above 0, each connection waits a random time (exponential, that mean) before
/// each request: a steady offered load below the machine's capacity instead of one request after another.
/// </summary>
public sealed record Workload(string Name, IReadOnlyList<HttpRequestSpec>? Requests = null, string? IdPath = null, long IdMax = 0, double ZipfExponent = 0, double ThinkMs = 0)
{
    public static Workload Get(string name, string path) => new(name, [new HttpRequestSpec("GET", path)]);
}

/// <summary>
/// wrk (the C load generator) driven by wrk/bench.lua. The API key reaches the script through the
/// environment, never the command line; the script prints its results as one JSON line.
/// </summary>
public sealed class Wrk(string script, string workDirectory)
{
    public static string? Version()
    {
        if (!Tool.Exists("wrk"))
        {
            return null;
        }

        // wrk -v prints its version and usage, and exits 1.
        var result = Tool.RunAsync("wrk", ["-v"]).GetAwaiter().GetResult();
        return (result.Stdout + result.Stderr).Split('\n').FirstOrDefault(l => l.StartsWith("wrk", StringComparison.Ordinal))?.Split('[')[0].Trim();
    }

    public async Task<LoadResult> RunAsync(Uri baseUrl, Workload workload, int connections, int seconds, string? apiKey, CancellationToken ct)
    {
        var environment = new Dictionary<string, string>
        {
            ["BENCH_API_KEY"] = apiKey ?? "",
        };
        if (workload.Requests is { } requests)
        {
            var file = Path.Combine(workDirectory, $"requests-{Sanitize(workload.Name)}.tsv");
            await File.WriteAllLinesAsync(file, requests.Select(r => $"{r.Method}\t{r.Path}\t{r.Body ?? ""}"), ct);

            environment["BENCH_REQUESTS"] = file;
        }
        else
        {
            environment["BENCH_ID_PATH"] = workload.IdPath!;
            environment["BENCH_ID_MAX"] = workload.IdMax.ToString(CultureInfo.InvariantCulture);
            environment["BENCH_ZIPF_S"] = workload.ZipfExponent.ToString(CultureInfo.InvariantCulture);
        }

        if (workload.ThinkMs > 0)
        {
            environment["BENCH_THINK_MS"] = workload.ThinkMs.ToString(CultureInfo.InvariantCulture);
        }

        var threads = Math.Min(2, connections);
        var result = await Tool.RunCheckedAsync(
            "wrk",
            ["-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
             "-d", $"{seconds}s", "--timeout", "10s", "-s", script, baseUrl.ToString()],
            environment,
            TimeSpan.FromSeconds(seconds + 60),
            ct: ct);

        var line = result.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("BENCH ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no result for {workload.Name}:{Environment.NewLine}{result.Stdout}{result.Stderr}");
        using var json = JsonDocument.Parse(line["BENCH ".Length..]);
        var root = json.RootElement;
        double Ms(string name) => root.GetProperty(name).GetDouble() / 1000;
        long Count(string name) => root.GetProperty(name).GetInt64();
        return new LoadResult(
            root.GetProperty("durationUs").GetDouble() / 1e6,
            Count("requests"),
            Count("connectErrors") + Count("readErrors") + Count("writeErrors") + Count("statusErrors") + Count("timeouts"),
            Ms("p50"),
            Ms("p90"),
            Ms("p95"),
            Ms("p99"),
            Ms("max"),
            Ms("mean"));
    }

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) ? c : '-'));
}
