using Npgsql;
using NexusCore.Migrator.Migrations;
using Microsoft.Extensions.Logging.Abstractions;

namespace NexusCore.Migrator.Tests.Migrations;

[Collection(PostgresCollection.Name)]
public sealed class DashboardFunctionTests(PostgresOnly postgres)
{
    [Fact]
    public async Task AnEmptyTableGivesZerosAndARateOfZero()
    {
        var db = await MigratedDatabaseAsync();

        var metrics = await DashboardAsync(db);

        Assert.Equal((0L, 0L, 0L, 0L, 0.00m), metrics);
    }

    [Fact]
    public async Task AKnownDataSetGivesExactCountsAndARoundedRate()
    {
        var db = await MigratedDatabaseAsync();
        (string Status, string Program)[] rows =
        [
            ("active", "PRIME"), ("active", "PRIME"), ("active", "LONGEVITY"), ("active", "PERFORMANCE"),
            ("inactive", "PRIME"), ("inactive", "PERFORMANCE"), ("pending", "LONGEVITY"),
        ];
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync();
            var n = 0;
            foreach (var (status, program) in rows)
            {
                await using var insert = new NpgsqlCommand(
                    "INSERT INTO clients (name, email, status, program_type) VALUES ($1, $2, $3, $4)", connection)
                {
                    Parameters =
                    {
                        new NpgsqlParameter<string> { TypedValue = $"Client {n}" },
                        new NpgsqlParameter<string> { TypedValue = $"client{n++}@example.com" },
                        new NpgsqlParameter<string> { TypedValue = status },
                        new NpgsqlParameter<string> { TypedValue = program },
                    },
                };
                await insert.ExecuteNonQueryAsync();
            }
        }

        var metrics = await DashboardAsync(db);

        // 4 active of 7 = 57.142857…% → 57.14
        Assert.Equal((7L, 4L, 3L, 2L, 57.14m), metrics);
    }

    private async Task<string> MigratedDatabaseAsync()
    {
        var db = await postgres.NewDatabaseAsync();
        var outcome = await new MigrationRunner(NullLogger<MigrationRunner>.Instance).RunAsync(db, CancellationToken.None);
        Assert.True(outcome.Succeeded, outcome.Error);
        return db;
    }

    private static async Task<(long Total, long Active, long Prime, long Longevity, decimal Rate)> DashboardAsync(string db)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT total_clients, active_clients, prime_clients, longevity_clients, active_rate FROM get_client_dashboard_metrics()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDecimal(4));
    }
}
