using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NexusCore.Migrator.Migrations;

namespace NexusCore.Migrator.Tests.Migrations;

[Collection(PostgresCollection.Name)]
public sealed class MigrationRunnerTests(PostgresOnly postgres)
{
    private static readonly MigrationRunner Runner = new(NullLogger<MigrationRunner>.Instance);

    [Fact]
    public async Task RunningTwiceAppliesEveryScriptOnceThenNothing()
    {
        var db = await postgres.NewDatabaseAsync();

        var first = await Runner.RunAsync(db, CancellationToken.None);
        var second = await Runner.RunAsync(db, CancellationToken.None);

        Assert.True(first.Succeeded, first.Error);
        Assert.Equal(MigrationRunner.EmbeddedScripts(), first.Applied);
        Assert.True(second.Succeeded, second.Error);
        Assert.Empty(second.Applied);
        Assert.Equal(MigrationRunner.EmbeddedScripts(), await JournalAsync(db));
    }

    [Fact]
    public async Task TwoRunsAtOnceApplyEachScriptExactlyOnce()
    {
        var db = await postgres.NewDatabaseAsync();

        var outcomes = await Task.WhenAll(
            Task.Run(() => Runner.RunAsync(db, CancellationToken.None)),
            Task.Run(() => Runner.RunAsync(db, CancellationToken.None)));

        Assert.All(outcomes, o => Assert.True(o.Succeeded, o.Error));
        var appliedByEither = outcomes.SelectMany(o => o.Applied).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(MigrationRunner.EmbeddedScripts(), appliedByEither);
        Assert.Equal(MigrationRunner.EmbeddedScripts(), await JournalAsync(db));
    }

    [Fact]
    public async Task AFailingScriptStopsTheRunNamesTheScriptAndRecordsNothingForIt()
    {
        var db = await postgres.NewDatabaseAsync();
        await ExecuteAsync(db, "CREATE TABLE clients (id int)");

        var outcome = await Runner.RunAsync(db, CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.EndsWith("V0001__clients.sql", outcome.FailedScript);
        Assert.Contains("clients", outcome.Error);
        Assert.Empty(await JournalAsync(db));
    }

    [Fact]
    public async Task TheMigratorProcessExitsZeroTwiceOnAHealthyDatabase()
    {
        var db = await postgres.NewDatabaseAsync();

        var first = await RunMigratorProcessAsync(db);
        var second = await RunMigratorProcessAsync(db);

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("up to date", second.Output);
        Assert.Equal(MigrationRunner.EmbeddedScripts(), await JournalAsync(db));
    }

    [Fact]
    public async Task TheMigratorProcessExitsNonZeroAndLogsTheFailingScript()
    {
        var db = await postgres.NewDatabaseAsync();
        await ExecuteAsync(db, "CREATE TABLE clients (id int)");

        var run = await RunMigratorProcessAsync(db);

        Assert.True(run.ExitCode == 1, run.Output);
        Assert.Contains("V0001__clients.sql", run.Output);
    }

    private static async Task<IReadOnlyList<string>> JournalAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT to_regclass('public.schema_migrations') IS NOT NULL", connection);
        if (await exists.ExecuteScalarAsync() is not true)
        {
            return [];
        }

        await using var command = new NpgsqlCommand("SELECT scriptname FROM public.schema_migrations ORDER BY scriptname", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(int ExitCode, string Output)> RunMigratorProcessAsync(string connectionString)
    {
        var startInfo = new ProcessStartInfo("dotnet", [Seeding.MigratorProcess.Dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["ConnectionStrings__clientsdb"] = connectionString,
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
            },
        };

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
