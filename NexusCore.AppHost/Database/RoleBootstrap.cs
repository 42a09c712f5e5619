using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace NexusCore.AppHost.Database;

/// <summary>
/// What only the superuser can do, done once per start by the AppHost (idempotent): the login roles and their
/// passwords, role memberships and per-role settings; then, in <c>clientsdb</c>, the database handed to the migrator's
/// role, connections allowed to the services' roles only, the extensions a non-superuser cannot create, and the guard
/// that limits the indexer to index DDL. Every grant on a table lives in the migrations, next to the tables.
/// </summary>
internal static partial class RoleBootstrap
{
    public static async Task CreateRolesAsync(string serverAdmin, DatabaseRoles roles, ILogger logger, CancellationToken ct)
    {
        await using var connection = await OpenAsync(serverAdmin, "postgres", ct);

        foreach (var role in roles.All)
        {
            var password = await role.Password.Resource.GetValueAsync(ct)
                ?? throw new InvalidOperationException($"The password of {role.Name} has no value.");
            await ExecuteAsync(connection, $"""
                DO $$ BEGIN
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{Identifier(role.Name)}') THEN
                        CREATE ROLE {Identifier(role.Name)} LOGIN;
                    END IF;
                END $$
                """, ct);
            // Set on every start: the role exists with exactly these attributes and the parameter's password.
            await ExecuteAsync(connection,
                $"ALTER ROLE {Identifier(role.Name)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD {Literal(password)}",
                ct);
        }

        await ExecuteAsync(connection, $"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DatabaseRoles.ClientsOwner}') THEN
                    CREATE ROLE {DatabaseRoles.ClientsOwner} NOLOGIN;
                END IF;
            END $$;
            -- The migrator alters table clients through it; the indexer builds and drops the table's indexes through it.
            GRANT {DatabaseRoles.ClientsOwner} TO {roles.Migrator.Name}, {roles.Indexer.Name};
            -- Statistics views and every role's pg_stat_statements rows (pg_read_all_stats), nothing else.
            GRANT pg_monitor TO {roles.PerfApi.Name};
            -- A unique violation logs no DETAIL (it would carry the email), whatever the code path.
            ALTER ROLE {roles.ClientsApi.Name} SET log_error_verbosity = 'terse';
            -- The advisor plans statements: its sessions cannot write, and a plan cannot run long.
            ALTER ROLE {roles.Advisor.Name} SET default_transaction_read_only = on;
            ALTER ROLE {roles.Advisor.Name} SET statement_timeout = '10s';
            """, ct);

        LogRolesReady(logger, string.Join(", ", roles.All.Select(r => r.Name)));
    }

    public static async Task PrepareDatabaseAsync(string databaseAdmin, string databaseName, DatabaseRoles roles, ILogger logger, CancellationToken ct)
    {
        await using var connection = await OpenAsync(databaseAdmin, databaseName, ct);
        var services = string.Join(", ", roles.All.Where(r => r != roles.Migrator).Select(r => r.Name));
        var hypoPg = await ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'hypopg')", ct);

        await ExecuteAsync(connection, $"""
            -- The migrator's role owns the database, so it owns schema public (pg_database_owner) and what it creates.
            ALTER DATABASE {Identifier(databaseName)} OWNER TO {roles.Migrator.Name};
            REVOKE ALL ON DATABASE {Identifier(databaseName)} FROM PUBLIC;
            GRANT CONNECT ON DATABASE {Identifier(databaseName)} TO {services};

            -- Extensions only a superuser may create (pg_trgm is trusted: the migrator creates it).
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            {(hypoPg ? "CREATE EXTENSION IF NOT EXISTS hypopg;" : "-- hypopg is not installed on this server: index advice is heuristic")}

            -- A database migrated before these roles existed has tables and functions a superuser owns: hand them
            -- to the migrator's role (its migrations then place table clients with its own owner).
            DO $$
            DECLARE item record;
            BEGIN
                FOR item IN
                    SELECT c.oid::regclass AS name FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles o ON o.oid = c.relowner
                    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND o.rolsuper
                      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
                LOOP
                    EXECUTE format('ALTER TABLE %s OWNER TO {roles.Migrator.Name}', item.name);
                END LOOP;
                FOR item IN
                    SELECT p.oid::regprocedure AS name FROM pg_proc p
                    JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles o ON o.oid = p.proowner
                    WHERE n.nspname = 'public' AND o.rolsuper
                      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
                LOOP
                    EXECUTE format('ALTER FUNCTION %s OWNER TO {roles.Migrator.Name}', item.name);
                END LOOP;
            END $$;

            -- The indexer owns table clients (through {DatabaseRoles.ClientsOwner}) so that it can run CREATE and DROP
            -- INDEX CONCURRENTLY, which no grant allows and no function can run. This guard refuses every other DDL
            -- command its sessions send (ALTER or DROP TABLE, GRANT, CREATE TRIGGER, ...). It lives in a schema only
            -- the superuser can use.
            CREATE SCHEMA IF NOT EXISTS nexuscore_guard;
            REVOKE ALL ON SCHEMA nexuscore_guard FROM PUBLIC;
            CREATE OR REPLACE FUNCTION nexuscore_guard.indexer_ddl_only() RETURNS event_trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF session_user = '{roles.Indexer.Name}' AND tg_tag NOT IN ('CREATE INDEX', 'DROP INDEX') THEN
                    RAISE EXCEPTION 'role {roles.Indexer.Name} may only create and drop indexes, not run %', tg_tag
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
            END $$;
            DROP EVENT TRIGGER IF EXISTS nexuscore_indexer_ddl_only;
            CREATE EVENT TRIGGER nexuscore_indexer_ddl_only ON ddl_command_start EXECUTE FUNCTION nexuscore_guard.indexer_ddl_only();
            """, ct);

        LogDatabaseReady(logger, databaseName, roles.Migrator.Name);
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString, string database, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Database = database,
            ApplicationName = DatabaseRoles.AppHostApplicationName,
            Pooling = false,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);

        // Role passwords are sent below: no trace of these statements in pg_stat_statements (which PerfApi's role
        // reads) or in the server log, whatever the server's settings (superuser-only settings, for this session).
        await ExecuteAsync(connection, """
            SET log_statement = 'none';
            SET log_min_error_statement = 'panic';
            SET log_min_duration_statement = -1;
            SET pg_stat_statements.track_utility = off;
            """, ct);
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Role and database names are this code's constants; they are checked, never quoted from input.</summary>
    private static string Identifier(string name) =>
        PlainIdentifier().IsMatch(name) ? name : throw new ArgumentException($"'{name}' is not a plain lower-case identifier.", nameof(name));

    /// <summary>
    /// A password as an escape string literal (ALTER ROLE takes no parameters): backslashes and quotes doubled, so
    /// it reads back exactly whatever <c>standard_conforming_strings</c> says. A NUL cannot be sent at all.
    /// </summary>
    internal static string Literal(string value) =>
        value.Contains('\0', StringComparison.Ordinal)
            ? throw new ArgumentException("A password cannot contain NUL.", nameof(value))
            : "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainIdentifier();

    [LoggerMessage(Level = LogLevel.Information, Message = "Database roles ready: {Roles}")]
    private static partial void LogRolesReady(ILogger logger, string roles);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database {Database} owned by {Owner}; connections limited to the services' roles")]
    private static partial void LogDatabaseReady(ILogger logger, string database, string owner);
}
