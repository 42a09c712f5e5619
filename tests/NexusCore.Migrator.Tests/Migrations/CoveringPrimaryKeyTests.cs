using System.Text.Json;
using Npgsql;
using NexusCore.Migrator.Tests.Seeding;

namespace NexusCore.Migrator.Tests.Migrations;

/// <summary>
/// V0006 makes the primary key carry every column a client is returned with, so reads by id never
/// visit the table: these tests hold the plan, the seeder's vacuum it relies on, and the widest row.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CoveringPrimaryKeyTests(PostgresOnly postgres)
{
    // ClientsApi's by-ids statement (Features/Clients/ByIds/Data.cs), with the columns of Client.Columns.
    private const string ByIds = "SELECT id, name, email, status, program_type, created_at, updated_at, version FROM clients WHERE id = ANY($1)";

    [Fact]
    public async Task AfterASeedReadingAHundredIdsIsAnIndexOnlyScanOfThePrimaryKeyThatNeverVisitsTheTable()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        await SeedDatabase.SeedAsync(db, 20_000);
        var ids = Enumerable.Range(0, 100).Select(i => 17L + i * 197).ToArray();

        var plan = await ExplainAsync(db, ids);

        Assert.Equal("Index Only Scan", plan.GetProperty("Node Type").GetString());
        Assert.Equal("clients_pkey", plan.GetProperty("Index Name").GetString());
        Assert.Equal(100, plan.GetProperty("Actual Rows").GetInt32());
        // The seeder's VACUUM marked the loaded pages all-visible: not one row is checked in the table.
        Assert.Equal(0, plan.GetProperty("Heap Fetches").GetInt32());
    }

    [Fact]
    public async Task ARowChangedSinceTheLastVacuumIsReadFromTheTableWithItsNewValues()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        await SeedDatabase.SeedAsync(db, 5_000);
        await SeedDatabase.ExecuteAsync(db, "UPDATE clients SET name = 'Renamed After Vacuum', version = 99 WHERE id = 42");

        var plan = await ExplainAsync(db, [41, 42, 43]);
        var rows = await ReadAsync(db, [42]);

        Assert.Equal("Index Only Scan", plan.GetProperty("Node Type").GetString());
        Assert.True(plan.GetProperty("Heap Fetches").GetInt32() >= 1, plan.ToString());
        var row = Assert.Single(rows);
        Assert.Equal((42L, "Renamed After Vacuum", 99), (row.Id, row.Name, row.Version));
    }

    [Fact]
    public async Task TheWidestClientTheTableAllowsFitsInThePrimaryKey()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        // The checks allow 200 characters of name and 254 of email; four UTF-8 bytes each is the most
        // an entry of the key can hold (~1.9 kB against B-tree's 2,704).
        var name = string.Concat(Enumerable.Repeat("😀", 200));
        var email = string.Concat(Enumerable.Repeat("😀", 250)) + "@x.y";

        long id;
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand(
                "INSERT INTO clients (name, email, program_type) VALUES ($1, $2, 'PRIME') RETURNING id", connection);
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = email });
            id = (long)(await insert.ExecuteScalarAsync())!;
        }

        var row = Assert.Single(await ReadAsync(db, [id]));
        Assert.Equal((name, email), (row.Name, row.Email));
        Assert.Equal(800 + 1004, await SeedDatabase.ScalarAsync<int>(db, $"SELECT octet_length(name) + octet_length(email) FROM clients WHERE id = {id}"));
    }

    private static async Task<JsonElement> ExplainAsync(string db, long[] ids)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + ByIds, connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        var json = (string)(await command.ExecuteScalarAsync())!;
        return JsonDocument.Parse(json).RootElement[0].GetProperty("Plan").Clone();
    }

    private static async Task<List<(long Id, string Name, string Email, int Version)>> ReadAsync(string db, long[] ids)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(ByIds, connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(long, string, string, int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(7)));
        }

        return rows;
    }
}
