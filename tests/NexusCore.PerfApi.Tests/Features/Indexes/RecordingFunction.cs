using System.Security.Cryptography;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// A function that records every call, to prove that nothing runs it. <see cref="Name"/>() is a STABLE plpgsql
/// function, so the planner evaluates it while estimating a predicate's selectivity (as it would
/// <c>table_to_xml(…)</c>), and it returns <see cref="Marker"/>, a text no response may ever hold. Each call inserts
/// a row (with the calling session's user) into <see cref="Table"/> through dblink, on a connection of its own that
/// commits at once: the call is recorded even from a read-only transaction that is rolled back, which is how the
/// advisor plans (an INSERT in the caller's own transaction would fail there and leave no trace). Created with the
/// test's superuser connection; dropped, with the role dblink writes as, when disposed.
/// </summary>
internal sealed class RecordingFunction : IAsyncDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly string _writer;

    private RecordingFunction(NpgsqlDataSource db, string suffix)
    {
        _db = db;
        Name = $"nc_recorded_{suffix}";
        Table = $"nc_recorded_calls_{suffix}";
        Marker = $"leak_marker_{suffix}";
        _writer = $"nc_recorder_{suffix}";
    }

    public string Name { get; }

    public string Table { get; }

    /// <summary>What the function returns (so what a failing cast of its result prints).</summary>
    public string Marker { get; }

    public static async Task<RecordingFunction> CreateAsync(PerfApiStack stack)
    {
        var function = new RecordingFunction(stack.ClientsDb, Guid.NewGuid().ToString("N")[..10]);
        var server = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync("clientsdb"));
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var conninfo = $"host={server.Host} port={server.Port} dbname={server.Database} user={function._writer} password={password}";
        await function.ExecuteAsync($"""
            CREATE EXTENSION IF NOT EXISTS dblink;
            CREATE TABLE {function.Table} (called_at timestamptz NOT NULL DEFAULT clock_timestamp(), called_by name NOT NULL);
            CREATE ROLE {function._writer} LOGIN PASSWORD '{password}';
            GRANT CONNECT ON DATABASE {server.Database} TO {function._writer};
            GRANT INSERT ON {function.Table} TO {function._writer};
            CREATE FUNCTION {function.Name}_write() RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
            SET search_path = pg_catalog, public AS $body$
            BEGIN
                PERFORM dblink_exec('{conninfo}', format('INSERT INTO {function.Table} (called_by) VALUES (%L)', session_user));
            END
            $body$;
            CREATE FUNCTION {function.Name}() RETURNS text LANGUAGE plpgsql STABLE AS $body$
            BEGIN
                PERFORM {function.Name}_write();
                RETURN '{function.Marker}';
            END
            $body$;
            """);
        return function;
    }

    /// <summary>How many times the function has been called so far, by anyone.</summary>
    public async Task<long> CallsAsync()
    {
        await using var command = _db.CreateCommand($"SELECT count(*) FROM {Table}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Who called it (session users), for a failure message.</summary>
    public async Task<string> CallersAsync()
    {
        await using var command = _db.CreateCommand($"SELECT coalesce(string_agg(DISTINCT called_by::text, ', '), 'nobody') FROM {Table}");
        return (string)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteAsync($"""
                DROP FUNCTION IF EXISTS {Name}();
                DROP FUNCTION IF EXISTS {Name}_write();
                DROP TABLE IF EXISTS {Table};
                DROP OWNED BY {_writer};
                DROP ROLE IF EXISTS {_writer};
                """);
        }
        catch (NpgsqlException)
        {
            // The stack is going away with it.
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// A throwaway login role, allowed to read one table: another database user whose statements land in
/// pg_stat_statements under its own <c>userid</c>. Dropped (with its grants) when disposed.
/// </summary>
internal sealed class ThrowawayRole : IAsyncDisposable
{
    private readonly NpgsqlDataSource _admin;

    private ThrowawayRole(NpgsqlDataSource admin, string name, NpgsqlDataSource db)
    {
        _admin = admin;
        Name = name;
        Db = db;
    }

    public string Name { get; }

    /// <summary>Connections as the role (unpooled: disposing closes them, so the role can be dropped).</summary>
    public NpgsqlDataSource Db { get; }

    public static async Task<ThrowawayRole> CreateAsync(PerfApiStack stack, string table)
    {
        var name = $"nc_other_{Guid.NewGuid().ToString("N")[..10]}";
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await using (var command = stack.ClientsDb.CreateCommand($"CREATE ROLE {name} LOGIN PASSWORD '{password}'; GRANT CONNECT ON DATABASE clientsdb TO {name}; GRANT SELECT ON {table} TO {name}"))
        {
            await command.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync("clientsdb"))
        {
            Username = name,
            Password = password,
            Pooling = false,
        };
        return new ThrowawayRole(stack.ClientsDb, name, NpgsqlDataSource.Create(builder.ConnectionString));
    }

    public async ValueTask DisposeAsync()
    {
        await Db.DisposeAsync();
        try
        {
            await using var command = _admin.CreateCommand($"DROP OWNED BY {Name}; DROP ROLE IF EXISTS {Name}");
            await command.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // The stack is going away with it.
        }
    }
}
