using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Xunit.Abstractions;

namespace NexusCore.Bench.Tests;

/// <summary>
/// Runs <c>bench/run --tiny</c> end to end (its own stack on free ports, 10,000 clients, one short run
/// per figure) so the harness cannot rot. Only the shape of the results is asserted: tiny numbers on a
/// busy CI machine say nothing about speed.
/// </summary>
public sealed class TinyRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(6);

    public static readonly string[] Operations =
        ["dashboard", "search-filters", "search-q", "search-deep", "analytics", "by-ids", "get", "bulk", "export"];

    [Fact]
    public async Task TinyRunWritesEveryOperationWithPositiveBeforeAndAfterFigures()
    {
        using var results = await RunTinyAsync();
        var operations = results.RootElement.GetProperty("operations").EnumerateArray().ToDictionary(o => o.GetProperty("key").GetString()!);

        Assert.Equal(Operations.Order(), operations.Keys.Order());
        foreach (var (key, operation) in operations)
        {
            Assert.True(operation.GetProperty("before").GetDouble() > 0, $"{key}: before");
            Assert.True(operation.GetProperty("after").GetDouble() > 0, $"{key}: after");
            if (operation.GetProperty("afterUncached").ValueKind != JsonValueKind.Null)
            {
                Assert.True(operation.GetProperty("afterUncached").GetDouble() > 0, $"{key}: after, uncached");
            }
        }

        foreach (var measurement in results.RootElement.GetProperty("measurements").EnumerateArray())
        {
            var name = $"{measurement.GetProperty("configuration").GetString()} {measurement.GetProperty("name").GetString()}";
            var result = measurement.GetProperty("result");
            Assert.True(result.GetProperty("requests").GetInt64() > 0, $"{name}: requests");
            Assert.True(result.GetProperty("rps").GetDouble() > 0, $"{name}: requests/s");
            Assert.True(result.GetProperty("p50Ms").GetDouble() > 0, $"{name}: p50");
            Assert.Equal(0, result.GetProperty("errors").GetInt64());
        }

        // The steady-load figures (the reads with a p99 target, and plaintext beside them) are paced: the
        // plaintext app, which answers thousands of requests/s back to back, is offered about 1,000/s over
        // 4 connections and answers about that many.
        var paced = results.RootElement.GetProperty("measurements").EnumerateArray()
            .Where(m => m.GetProperty("name").GetString()!.EndsWith(" @1,000/s", StringComparison.Ordinal))
            .ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("result"));
        Assert.Equal(
            ["analytics @1,000/s", "by-ids @1,000/s", "dashboard @1,000/s", "plaintext @1,000/s", "search-filters @1,000/s", "search-q @1,000/s"],
            paced.Keys.Order(StringComparer.Ordinal));
        Assert.InRange(paced["plaintext @1,000/s"].GetProperty("rps").GetDouble(), 100, 1_500);
        Assert.All(paced.Values, r => Assert.Equal(4, r.GetProperty("connections").GetInt32()));

        foreach (var ratio in results.RootElement.GetProperty("ratios").EnumerateArray())
        {
            Assert.True(ratio.GetProperty("numeratorValue").GetDouble() > 0, ratio.GetProperty("name").GetString());
            Assert.True(ratio.GetProperty("denominatorValue").GetDouble() > 0, ratio.GetProperty("name").GetString());
        }

        foreach (var baseline in results.RootElement.GetProperty("baselines").EnumerateObject())
        {
            Assert.True(baseline.Value.GetDouble() >= 0, baseline.Name);
        }

        // Issue 24: PerfApi counted every request the calibration variant made, with a p99 within the
        // histogram's bound (4.4 % at scale 3, 2.2 % at 4) of the spans' exact p99, and the replay got points
        // and spans into PerfApi. A query's span and its histogram value are one measurement (QueryScope), so
        // the bound holds however loaded the machine is: a CI run at load 20 had 36 % when they were two.
        var telemetry = results.RootElement.GetProperty("telemetry");
        var percentiles = telemetry.GetProperty("percentiles").EnumerateArray().ToList();
        Assert.NotEmpty(percentiles);
        Assert.All(percentiles, c =>
        {
            var series = c.GetProperty("series").GetString();
            Assert.True(c.GetProperty("exactCount").GetInt64() > 0, series);
            Assert.Equal(c.GetProperty("exactCount").GetInt64(), c.GetProperty("perfApiCount").GetInt64());
            Assert.InRange(c.GetProperty("p99ErrorPercent").GetDouble(), 0, 5);
        });
        Assert.True(telemetry.GetProperty("replayItemsReceived").GetInt64() > 0);
        Assert.True(telemetry.GetProperty("replayRefused").GetInt64() < telemetry.GetProperty("replayPayloads").GetInt64());
    }

    private async Task<JsonDocument> RunTinyAsync()
    {
        var repo = RepositoryRoot();
        var outDir = Directory.CreateTempSubdirectory("nexuscore-bench-test-").FullName;
        try
        {
            var configuration = typeof(TinyRunTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "BuildConfiguration").Value!;
            var start = new ProcessStartInfo(Path.Combine(repo, "bench", "run"), ["--tiny", "--no-build", "--configuration", configuration, "--out", outDir])
            {
                WorkingDirectory = repo,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };

            var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
            using var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var deadline = new CancellationTokenSource(Deadline);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }

            // The harness's progress lines (and, on failure, why) in the test output.
            foreach (var line in log.Where(l => l.StartsWith("[bench", StringComparison.Ordinal) || l.Contains("failed", StringComparison.OrdinalIgnoreCase)))
            {
                output.WriteLine(line);
            }

            Assert.True(process.HasExited && process.ExitCode == 0,
                $"bench/run --tiny {(process.HasExited ? $"exited with {process.ExitCode}" : $"did not finish within {Deadline}")}:{Environment.NewLine}{string.Join(Environment.NewLine, log.TakeLast(40))}");

            var json = Directory.GetFiles(outDir, "*-tiny.json").Single();
            Assert.Single(Directory.GetFiles(outDir, "*-tiny.md"));
            return JsonDocument.Parse(await File.ReadAllTextAsync(json));
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NexusCore.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NexusCore.sln was not found above the test's directory.");
    }
}
