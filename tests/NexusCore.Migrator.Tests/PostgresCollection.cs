namespace NexusCore.Migrator.Tests;

/// <summary>Only the AppHost's PostgreSQL server: each test migrates a scratch database of its own.</summary>
public sealed class PostgresOnly : StackFixture
{
    protected override IReadOnlyCollection<string> KeptResources => ["postgres"];

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> NewDatabaseAsync()
    {
        var admin = new Npgsql.NpgsqlConnectionStringBuilder(await ConnectionStringAsync("postgres")) { Database = "postgres" };
        var name = "scratch_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new Npgsql.NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new Npgsql.NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = name }.ConnectionString;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresOnly>
{
    public const string Name = "postgres";
}
