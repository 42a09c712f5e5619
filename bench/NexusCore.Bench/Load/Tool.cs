using System.Diagnostics;

namespace NexusCore.Bench.Load;

/// <summary>Runs a command-line tool (wrk, pgbench, psql, dotnet) to completion and returns its output.</summary>
public static class Tool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    public static async Task<Result> RunAsync(
        string file,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        CancellationToken ct = default)
    {
        var start = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{file} {string.Join(' ', start.ArgumentList)}' did not finish within {timeout ?? TimeSpan.FromMinutes(5)}.");
        }

        var elapsed = watch.Elapsed;
        return new Result(process.ExitCode, await stdout, await stderr, elapsed);
    }

    /// <summary>Like <see cref="RunAsync"/>, but a non-zero exit code is an error that quotes the tool's output.</summary>
    public static async Task<Result> RunCheckedAsync(
        string file,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        CancellationToken ct = default)
    {
        var argList = args.ToList();
        var result = await RunAsync(file, argList, environment, timeout, workingDirectory, ct);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{file} {string.Join(' ', argList)}' exited with {result.ExitCode}:{Environment.NewLine}{Tail(result.Stderr)}{Tail(result.Stdout)}");
        }

        return result;
    }

    /// <summary>True when <paramref name="file"/> is on PATH.</summary>
    public static bool Exists(string file) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, file)));

    private static string Tail(string text) =>
        string.Join(Environment.NewLine, text.Split('\n').TakeLast(15));
}
