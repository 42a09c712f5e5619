using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace NexusCore.Bench.Load;

/// <summary>
/// The PostgreSQL command-line tools (pgbench, psql) aimed at the stack's database. The connection
/// reaches them as PG* environment variables, so the password is never on a command line or in a file.
/// </summary>
public sealed partial class Postgres(string connectionString, string workDirectory)
{
    public IReadOnlyDictionary<string, string> Environment { get; } = ToEnvironment(connectionString);

    public string ConnectionString => connectionString;

    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(connectionString);

    /// <summary>
    /// Runs pgbench with custom scripts (taken at random, equal weights) for <paramref name="seconds"/>,
    /// logging every transaction so the latency percentiles come from all of them.
    /// </summary>
    /// <remarks>
    /// pgbench's clock starts before its clients have authenticated: on a loaded machine a short run can end
    /// before the first transaction, so a run that completed none is repeated, twice as long, up to twice.
    /// </remarks>
    public async Task<LoadResult> PgbenchAsync(string name, IReadOnlyList<string> scripts, int clients, int seconds, CancellationToken ct)
    {
        var result = await PgbenchOnceAsync(name, scripts, clients, seconds, ct);
        for (var attempt = 1; attempt <= 2 && result.Requests == 0; attempt++)
        {
            seconds *= 2;
            result = await PgbenchOnceAsync(name, scripts, clients, seconds, ct);
        }

        return result;
    }

    private async Task<LoadResult> PgbenchOnceAsync(string name, IReadOnlyList<string> scripts, int clients, int seconds, CancellationToken ct)
    {
        var run = Path.Combine(workDirectory, $"pgbench-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(run);
        var args = new List<string>
        {
            "-n", "-M", "extended",
            "-c", clients.ToString(CultureInfo.InvariantCulture),
            "-j", Math.Min(2, clients).ToString(CultureInfo.InvariantCulture),
            "-T", seconds.ToString(CultureInfo.InvariantCulture),
            "-l", $"--log-prefix={Path.Combine(run, "log")}",
        };
        for (var i = 0; i < scripts.Count; i++)
        {
            var file = Path.Combine(run, $"script{i}.sql");
            await File.WriteAllTextAsync(file, scripts[i], ct);
            args.Add("-f");
            args.Add(file);
        }

        var result = await Tool.RunCheckedAsync("pgbench", args, Environment, TimeSpan.FromSeconds(seconds + 120), run, ct);
        var failed = FailedTransactions().Match(result.Stdout) is { Success: true } f ? long.Parse(f.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

        // pgbench's own rate leaves out connection set-up (SCRAM authentication of every client), which
        // would otherwise eat a visible part of a short run.
        var tps = Tps().Match(result.Stdout) is { Success: true } t ? double.Parse(t.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

        // Log lines: client_id transaction_no time_us script_no epoch epoch_us
        var latencies = new List<double>();
        foreach (var log in Directory.EnumerateFiles(run, "log.*"))
        {
            foreach (var line in File.ReadLines(log))
            {
                var fields = line.Split(' ');
                if (fields.Length >= 3 && double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var us))
                {
                    latencies.Add(us);
                }
            }
        }

        Directory.Delete(run, recursive: true);
        var measured = LoadResult.FromLatencies(seconds, failed, latencies);
        return tps > 0 ? measured with { Seconds = measured.Requests / tps } : measured;
    }

    /// <summary>Runs psql with <c>-v ON_ERROR_STOP=1</c> and the given commands, each as its own <c>-c</c>.</summary>
    public Task<Tool.Result> PsqlAsync(IEnumerable<string> commands, CancellationToken ct)
    {
        var args = new List<string> { "-X", "-q", "-v", "ON_ERROR_STOP=1" };
        foreach (var command in commands)
        {
            args.Add("-c");
            args.Add(command);
        }

        return Tool.RunCheckedAsync("psql", args, Environment, TimeSpan.FromMinutes(10), workDirectory, ct);
    }

    public async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<T> ScalarAsync<T>(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }

    private static Dictionary<string, string> ToEnvironment(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return new Dictionary<string, string>
        {
            ["PGHOST"] = builder.Host ?? "127.0.0.1",
            ["PGPORT"] = builder.Port.ToString(CultureInfo.InvariantCulture),
            ["PGUSER"] = builder.Username ?? "postgres",
            ["PGPASSWORD"] = builder.Password ?? "",
            ["PGDATABASE"] = builder.Database ?? "postgres",
        };
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex Tps();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex FailedTransactions();
}
