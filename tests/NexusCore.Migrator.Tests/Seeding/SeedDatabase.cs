using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NexusCore.Migrator.Migrations;
using NexusCore.Migrator.Seeding;

namespace NexusCore.Migrator.Tests.Seeding;

/// <summary>Scratch-database helpers shared by the seeding tests.</summary>
internal static class SeedDatabase
{
    /// <summary>A fixed as-of day, so that timestamps compare exactly across runs and databases.</summary>
    public static readonly DateOnly AsOf = new(2025, 6, 30);

    public static async Task<string> MigratedAsync(PostgresOnly postgres)
    {
        var db = await postgres.NewDatabaseAsync();
        var outcome = await new MigrationRunner(NullLogger<MigrationRunner>.Instance).RunAsync(db, CancellationToken.None);
        Assert.True(outcome.Succeeded, outcome.Error);
        return db;
    }

    public static Task<SeedOutcome> SeedAsync(string db, int clients, int rebuildIndexesFrom = 100_000) =>
        new ClientSeeder(
                Options.Create(new SeedOptions { Clients = clients, AsOf = AsOf, RebuildIndexesFrom = rebuildIndexesFrom }),
                TimeProvider.System,
                NullLogger<ClientSeeder>.Instance)
            .SeedAsync(db, CancellationToken.None);

    public static async Task ExecuteAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The seeded clients as the table holds them, in ordinal order.</summary>
    public static async Task<List<SeedClient>> SeededClientsAsync(string db)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT substring(email FROM '\.([0-9]+)@')::bigint AS ordinal,
                   name, email, status, program_type, created_at, updated_at, version
            FROM clients
            WHERE email LIKE '%@seed.nexuscore.test'
            ORDER BY ordinal
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var clients = new List<SeedClient>();
        while (await reader.ReadAsync())
        {
            clients.Add(new SeedClient(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetDateTime(5), reader.GetDateTime(6), reader.GetInt32(7)));
        }

        return clients;
    }

    /// <summary>Every index of <c>clients</c> with its definition, validity and comment.</summary>
    public static async Task<List<string>> IndexesAsync(string db)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid || ' comment=' || coalesce(obj_description(i.indexrelid, 'pg_class'), '-')
            FROM pg_index i
            WHERE i.indrelid = 'clients'::regclass
            ORDER BY 1
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var indexes = new List<string>();
        while (await reader.ReadAsync())
        {
            indexes.Add(reader.GetString(0));
        }

        return indexes;
    }
}
