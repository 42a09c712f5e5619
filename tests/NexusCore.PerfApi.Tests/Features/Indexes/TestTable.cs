using System.Diagnostics;
using System.Text.Json;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Analysis.Recommendations;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// A table of the test's own, uniquely named, in clientsdb: <c>id</c> (primary key), <c>lookup</c> and
/// <c>other</c> (distinct per row, no index), <c>code</c> (row number) and <c>pad</c> (60 bytes, so that 200,000
/// rows make about 25 MB, above the advisor's size threshold). Dropped when disposed.
/// </summary>
internal sealed class TestTable : IAsyncDisposable
{
    private TestTable(NpgsqlDataSource db, NpgsqlDataSource workload, string name)
    {
        Db = db;
        Workload = workload;
        Name = name;
    }

    /// <summary>The superuser: creates, fills and drops the table.</summary>
    public NpgsqlDataSource Db { get; }

    /// <summary>ClientsApi's role: <see cref="RunAsync"/> runs the statements the advisor should see as the application's.</summary>
    public NpgsqlDataSource Workload { get; }

    public string Name { get; }

    public static async Task<TestTable> CreateAsync(StackFixture stack, string prefix, int rows, params string[] indexes)
    {
        var workload = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync("clientsdb-clients-api")) { ApplicationName = "nexuscore-tests" };
        var table = new TestTable(stack.ClientsDb, NpgsqlDataSource.Create(workload.ConnectionString), $"{prefix}_{Guid.NewGuid().ToString("N")[..8]}");
        // lookup and other: a bijection of the row number (7919 and 104729 are coprime with the prime 1000003).
        await table.ExecuteAsync($"""
            CREATE TABLE {table.Name} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, lookup bigint NOT NULL, other bigint NOT NULL, code bigint NOT NULL, pad text NOT NULL);
            INSERT INTO {table.Name} (lookup, other, code, pad)
            SELECT (g::bigint * 7919) % 1000003, (g::bigint * 104729) % 1000003, g, repeat('x', 60) FROM generate_series(1, {rows}) g;
            -- Held as the application's tables are (V0007__least_privilege.sql): the advisor's role may read it to
            -- plan its statements, and the indexer's may build and drop its indexes through the owner role.
            ALTER TABLE {table.Name} OWNER TO nexuscore_clients_owner;
            GRANT SELECT ON {table.Name} TO nexuscore_advisor, nexuscore_clients_api;
            """);
        foreach (var index in indexes)
        {
            await table.ExecuteAsync(index.Replace("{t}", table.Name, StringComparison.Ordinal));
        }

        await table.ExecuteAsync($"ANALYZE {table.Name}");
        return table;
    }

    /// <summary>The lookup value of row <paramref name="row"/>.</summary>
    public static long Lookup(long row) => row * 7919 % 1000003;

    public static long Other(long row) => row * 104729 % 1000003;

    public async Task ExecuteAsync(string sql)
    {
        await using var command = Db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs <paramref name="sql"/> with each value as $1 (and $2 when given), and returns each run's time.</summary>
    public async Task<IReadOnlyList<double>> RunAsync(string sql, IEnumerable<long[]> parameters)
    {
        var times = new List<double>();
        foreach (var values in parameters)
        {
            await using var command = Workload.CreateCommand(sql);
            foreach (var value in values)
            {
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = value });
            }

            var started = Stopwatch.GetTimestamp();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                }
            }

            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return times;
    }

    public async Task<T?> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    /// <summary>Whether an index of this name exists on the table, and whether it is valid.</summary>
    public Task<bool?> IndexValidAsync(string index) =>
        ScalarAsync<bool?>("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND i.indrelid = $2::regclass", index, Name);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteAsync($"DROP TABLE IF EXISTS {Name}");
        }
        catch (NpgsqlException)
        {
            // The stack is going away with it.
        }
        finally
        {
            await Workload.DisposeAsync();
        }
    }
}

internal static class IndexResponses
{
    /// <summary>
    /// An analysis that started after this call: GET …/indexes?refresh=true until one comes back. refresh=true runs
    /// a new analysis at most every IndexAdvisor:MinRefreshInterval (<see cref="PerfApiStack.MinRefreshInterval"/>
    /// here) after the previous one ended, and returns the latest one meanwhile.
    /// </summary>
    public static Task<JsonElement> RefreshedIndexesAsync(this PerfApiClient reader)
    {
        var since = DateTimeOffset.UtcNow;
        return Eventually.WaitAsync(async () =>
        {
            var page = await reader.GetAsync("/api/v1/performance/indexes?refresh=true");
            return page.GetProperty("analyzedAt").GetDateTimeOffset() >= since ? page : null;
        }, "an index analysis that started after the test's workload", PerfApiStack.MinRefreshInterval + TimeSpan.FromMinutes(1));
    }

    public static JsonElement? Recommendation(this JsonElement page, string table) =>
        page.Items("recommendations").Select(r => (JsonElement?)r).FirstOrDefault(r => r!.Value.Text("table") == table);

    public static JsonElement? Retired(this JsonElement page, string index) =>
        page.Items("retire").Select(r => (JsonElement?)r).FirstOrDefault(r => r!.Value.Text("index") == index);

    public static IEnumerable<string> Strings(this JsonElement element, string property) =>
        element.Items(property).Select(e => e.GetString()!);
}
