using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace NexusCore.AppHost.Tests.Security;

/// <summary>
/// Least privilege in the running stack: every Postgres session a service holds is its own non-superuser role, each
/// role's grants are exactly README's table, and each role is refused what that table says it may not do.
/// </summary>
[Collection(StackCollection.Name)]
public sealed partial class DatabaseRoleTests(StackFixture stack)
{
    /// <summary>The schemas the application's migrations create objects in: public, and PerfApi's own.</summary>
    private const string Schemas = "'public', 'perf'";

    /// <summary>A relation as README names it: bare in public, schema-qualified elsewhere.</summary>
    private const string Relation = "CASE n.nspname WHEN 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END";

    private static readonly Dictionary<string, string[]> RolesByService = new(StringComparer.Ordinal)
    {
        ["clients-api"] = ["nexuscore_clients_api"],
        ["perf-api"] = ["nexuscore_perf_api", "nexuscore_advisor", "nexuscore_indexer"],
    };

    [Fact]
    public async Task EverySessionAServiceHoldsIsItsOwnRoleAndNoneIsASuperuser()
    {
        // Work that opens each of ClientsApi's three pools (search, lookups, writes) and PerfApi's own.
        var writer = stack.CreateClient("clients-api", "writer");
        Assert.Equal(HttpStatusCode.OK, (await writer.GetAsync("/api/v1/clients?limit=1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await writer.PostAsJsonAsync("/api/v1/optimized/clients/by-ids", new { ids = new[] { 1 } })).StatusCode);
        var created = await writer.PostAsJsonAsync("/api/v1/clients", new { name = "Role Check", email = $"roles.{Guid.NewGuid():N}@example.com", programType = "PRIME" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await stack.CreateClient("perf-api", "reader").GetAsync("/api/v1/performance/slow-queries")).StatusCode);

        var postgresPort = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync("clientsdb")).Port;
        var trees = RolesByService.Keys.ToDictionary(service => service, service => stack.ProcessTree(service).ToHashSet());
        var seen = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var sessions = new List<string>();

        await using var command = stack.ClientsDb.CreateCommand("""
            SELECT a.client_port, a.usename, r.rolsuper, coalesce(a.application_name, '')
            FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
            WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
            """);
        var rows = new List<(int Port, string Role, bool Super, string Application)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt32(0), reader.GetString(1), reader.GetBoolean(2), reader.GetString(3)));
            }
        }

        var sockets = ClientSockets(postgresPort);
        var owners = SocketOwners(sockets.Values.ToHashSet());
        foreach (var (port, role, super, application) in rows)
        {
            // -1: a Unix-socket session. Nothing of the stack uses one: every connection string names 127.0.0.1.
            Assert.True(port > 0, $"a session of {role} ({application}) came over a Unix socket");
            if (!sockets.TryGetValue(port, out var inode) || !owners.TryGetValue(inode, out var pid))
            {
                // The connection closed between the two reads.
                continue;
            }

            var service = trees.FirstOrDefault(t => t.Value.Contains(pid)).Key;
            sessions.Add($"{service ?? (pid == Environment.ProcessId ? "tests/AppHost" : $"pid {pid}")}: {role}{(super ? " (superuser)" : "")} '{application}'");
            if (service is null)
            {
                // The only other holder of sessions is this process: the AppHost runs in it (its health checks and
                // bootstrap, named so) and so do the tests' own assertions.
                Assert.True(pid == Environment.ProcessId, $"a session of {role} belongs to process {pid}, which is neither a service nor the tests");
                continue;
            }

            Assert.False(super, $"{service} holds a superuser session as {role}");
            Assert.Contains(role, RolesByService[service]);
            (seen.TryGetValue(service, out var roles) ? roles : seen[service] = []).Add(role);
        }

        var listing = string.Join(Environment.NewLine, sessions);
        Assert.True(seen.GetValueOrDefault("clients-api")?.Contains("nexuscore_clients_api") == true, $"no ClientsApi session was found:{Environment.NewLine}{listing}");
        Assert.True(seen.GetValueOrDefault("perf-api")?.Contains("nexuscore_perf_api") == true, $"no PerfApi session was found:{Environment.NewLine}{listing}");
    }

    [Fact]
    public async Task PerfApisAdvisorAndIndexBuilderConnectAsTheirOwnRoles()
    {
        Assert.True(stack.App.ResourceNotifications.TryGetCurrentState("perf-api", out var perfApi));
        var environment = perfApi.Snapshot.EnvironmentVariables.Where(v => v.Value is not null).ToDictionary(v => v.Name, v => v.Value!, StringComparer.Ordinal);

        Assert.Equal("nexuscore_perf_api", new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__clientsdb"]).Username);
        Assert.Equal("nexuscore_advisor", new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__clientsdb-advisor"]).Username);
        Assert.Equal("nexuscore_indexer", new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__clientsdb-indexer"]).Username);
    }

    [Fact]
    public async Task EachRolesGrantsAreExactlyTheTableInTheReadme()
    {
        var documented = ReadmeRoles();
        var actualRoles = await ListAsync("SELECT rolname FROM pg_roles WHERE rolname LIKE 'nexuscore\\_%' ORDER BY 1", r => r.GetString(0));
        Assert.Equal(documented.Keys.Order(StringComparer.Ordinal), actualRoles);

        foreach (var (role, expected) in documented)
        {
            var attributes = await ListAsync(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1",
                r => (r.GetBoolean(0), r.GetBoolean(1), r.GetBoolean(2), r.GetBoolean(3), r.GetBoolean(4)), role);
            Assert.Equal((false, false, false, false, false), Assert.Single(attributes));

            var grants = await ListAsync($"""
                SELECT {Relation} || ': ' || a.privilege_type
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
                WHERE n.nspname IN ({Schemas}) AND a.grantee = $1::regrole AND a.grantee <> c.relowner
                UNION ALL
                SELECT {Relation} || ': ' || a.privilege_type || ' (' || at.attname || ')'
                FROM pg_attribute at JOIN pg_class c ON c.oid = at.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(at.attacl) a
                WHERE n.nspname IN ({Schemas}) AND a.grantee = $1::regrole
                UNION ALL
                SELECT 'schema ' || n.nspname || ': ' || a.privilege_type
                FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = $1::regrole AND a.grantee <> n.nspowner
                UNION ALL
                SELECT 'member of ' || r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = $1::regrole
                """, r => r.GetString(0), role);
            Assert.True(expected.Order(StringComparer.Ordinal).SequenceEqual(grants.Order(StringComparer.Ordinal)),
                $"{role}: README says [{string.Join("; ", expected.Order(StringComparer.Ordinal))}], the catalog has [{string.Join("; ", grants.Order(StringComparer.Ordinal))}]");
        }

        // Nothing of the application's is granted to PUBLIC (extensions keep their own defaults).
        var toPublic = await ListAsync($"""
            SELECT {Relation} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
            WHERE n.nspname IN ({Schemas}) AND a.grantee = 0
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            UNION ALL
            SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname IN ({Schemas}) AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0))
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            """, r => r.GetString(0));
        Assert.Empty(toPublic);
    }

    [Fact]
    public async Task ClientsApisRoleIsRefusedWhatItsRowSaysItMayNot()
    {
        await using var db = await RoleAsync("clients-api");
        await RefusedAsync(db, "CREATE TABLE stolen (x int)");
        await RefusedAsync(db, "SELECT rolpassword FROM pg_authid");
        await RefusedAsync(db, "UPDATE client_counts SET clients = 0");
        await RefusedAsync(db, "INSERT INTO clients (name, email, program_type, created_at) VALUES ('x', 'x@example.com', 'PRIME', now())");
        await RefusedAsync(db, "UPDATE clients SET created_at = now() WHERE false");
        await RefusedAsync(db, "TRUNCATE clients");
        await RefusedAsync(db, "SELECT get_client_dashboard_metrics()");
        await RefusedAsync(db, "SELECT * FROM schema_migrations");
        await RefusedAsync(db, "CREATE FUNCTION nexuscore_guard.f() RETURNS int LANGUAGE sql AS 'SELECT 1'");

        // What it may: its counters are kept by triggers that run as their owner.
        await using var transaction = await db.BeginTransactionAsync();
        await using var insert = new NpgsqlCommand(
            "INSERT INTO clients (name, email, program_type) VALUES ('Role Check', $1, 'LONGEVITY') RETURNING id", db, transaction);
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"roles.{Guid.NewGuid():N}@example.com" });
        Assert.IsType<long>(await insert.ExecuteScalarAsync());
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task PerfApisRoleReadsStatisticsButNoRow()
    {
        await using var db = await RoleAsync("perf-api");
        await RefusedAsync(db, "SELECT count(*) FROM clients");
        await RefusedAsync(db, "SELECT count(*) FROM idempotency_keys");
        await RefusedAsync(db, "CREATE TABLE stolen (x int)");
        await RefusedAsync(db, "CREATE TABLE perf.stolen (x int)");
        await RefusedAsync(db, "UPDATE perf.query_minutes SET count = 0 WHERE false");
        await RefusedAsync(db, "TRUNCATE perf.query_minutes");
        await RefusedAsync(db, "UPDATE perf.query_hours SET count = 0 WHERE false");
        await RefusedAsync(db, "TRUNCATE perf.query_hours");

        // Its own history: it writes, reads and deletes rows there (in a transaction rolled back here).
        await using (var transaction = await db.BeginTransactionAsync())
        {
            await ExecuteAsync(db, """
                INSERT INTO perf.query_minutes (minute, service, table_name, operation, query_type, cache_hit, count, sum, min, max,
                                                errors, scale, zero_count, bucket_offset, bucket_counts)
                VALUES (date_trunc('minute', now()), 'role-check', 'clients', 'SELECT', 'find', true, 1, 0.001, 0.001, 0.001, 0, 5, 0, -320, '{1}')
                """);
            await using var read = new NpgsqlCommand("DELETE FROM perf.query_minutes WHERE service = 'role-check' RETURNING count", db, transaction);
            Assert.Equal(1L, await read.ExecuteScalarAsync());
            // And compacts hours: the minutes' merged row goes to perf.query_hours, where it is read and deleted too.
            await ExecuteAsync(db, """
                INSERT INTO perf.query_hours (hour, service, table_name, operation, query_type, cache_hit, count, sum, min, max,
                                              errors, scale, zero_count, bucket_offset, bucket_counts)
                VALUES (date_bin('1 hour', now(), TIMESTAMPTZ '2000-01-01 00:00:00+00'), 'role-check', 'clients', 'SELECT', 'find', true, 1, 0.001, 0.001, 0.001, 0, 5, 0, -320, '\x01')
                """);
            await using var hours = new NpgsqlCommand("DELETE FROM perf.query_hours WHERE service = 'role-check' RETURNING count", db, transaction);
            Assert.Equal(1L, await hours.ExecuteScalarAsync());
            await transaction.RollbackAsync();
        }

        // pg_monitor: other roles' statement texts, not "<insufficient privilege>".
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_statements WHERE userid = 'nexuscore_clients_api'::regrole AND query <> '<insufficient privilege>'", db);
        Assert.True((long)(await command.ExecuteScalarAsync())! > 0);
    }

    [Fact]
    public async Task TheAdvisorsRoleOnlyReads()
    {
        await using var db = await RoleAsync("advisor");
        await RefusedAsync(db, "INSERT INTO client_counts VALUES ('active', 'PRIME', 1)", PostgresErrorCodes.ReadOnlySqlTransaction);
        // Its sessions are read-only by default, and without that it still holds no write privilege.
        await ExecuteAsync(db, "SET default_transaction_read_only = off");
        await RefusedAsync(db, "DELETE FROM idempotency_keys");
        await RefusedAsync(db, "SELECT rolpassword FROM pg_authid");
        await using var command = new NpgsqlCommand("SELECT count(*) >= 0 FROM clients", db);
        Assert.True((bool)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task TheIndexersRoleBuildsAndDropsIndexesOfClientsAndNothingElse()
    {
        await using var db = await RoleAsync("indexer");
        var name = $"ix_role_check_{Guid.NewGuid():N}"[..30];
        await ExecuteAsync(db, $"CREATE INDEX CONCURRENTLY {name} ON clients (updated_at)");
        await ExecuteAsync(db, $"DROP INDEX CONCURRENTLY {name}");

        await RefusedAsync(db, "SELECT count(*) FROM clients");
        await RefusedAsync(db, "DELETE FROM clients");
        await RefusedAsync(db, "TRUNCATE clients");
        await RefusedAsync(db, "ALTER TABLE clients ADD COLUMN stolen text");
        await RefusedAsync(db, "DROP TABLE clients");
        await RefusedAsync(db, "GRANT SELECT ON clients TO PUBLIC");
        await RefusedAsync(db, "CREATE TABLE stolen AS SELECT 1 AS x");
        await RefusedAsync(db, "CREATE FUNCTION stolen() RETURNS int LANGUAGE sql AS 'SELECT 1'");
        await RefusedAsync(db, "CREATE TRIGGER stolen AFTER INSERT ON clients FOR EACH STATEMENT EXECUTE FUNCTION clients_count_inserts()");
        await RefusedAsync(db, "CREATE INDEX stolen ON client_counts (clients)");
        await RefusedAsync(db, "SET ROLE nexuscore_clients_owner; ALTER TABLE clients OWNER TO nexuscore_indexer");
    }

    /// <summary>README's role table: for each role, the grants its "May" column lists, in the catalog query's spelling.</summary>
    private static Dictionary<string, List<string>> ReadmeRoles()
    {
        var readme = File.ReadAllLines(Path.Combine(RepositoryRoot(), "README.md"));
        var roles = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var line in readme.Where(l => l.StartsWith("| `nexuscore_", StringComparison.Ordinal)))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            var role = Regex.Match(cells[1], "`([a-z_]+)`").Groups[1].Value;
            var grants = new List<string>();
            foreach (var clause in cells[3].Split("; ", StringSplitOptions.TrimEntries))
            {
                if (MemberOf().Match(clause) is { Success: true } member)
                {
                    grants.Add($"member of {member.Groups[1].Value}");
                }
                else if (SchemaPrivilege().Match(clause) is { Success: true } schema)
                {
                    grants.Add($"schema {schema.Groups[2].Value}: {schema.Groups[1].Value}");
                }
                else if (TablePrivileges().Match(clause) is { Success: true } tables)
                {
                    foreach (var table in Regex.Matches(tables.Groups[1].Value, "`([a-z_.]+)`").Select(m => m.Groups[1].Value))
                    {
                        foreach (Match privilege in Privilege().Matches(tables.Groups[2].Value))
                        {
                            if (privilege.Groups[2].Success)
                            {
                                grants.AddRange(privilege.Groups[2].Value.Split(", ").Select(column => $"{table}: {privilege.Groups[1].Value} ({column})"));
                            }
                            else
                            {
                                grants.Add($"{table}: {privilege.Groups[1].Value}");
                            }
                        }
                    }
                }
            }

            roles[role] = grants;
        }

        Assert.NotEmpty(roles);
        return roles;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NexusCore.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NexusCore.sln was not found above the test's directory.");
    }

    /// <summary>A connection as one of the roles, with the connection string the AppHost gives its service.</summary>
    private async Task<NpgsqlConnection> RoleAsync(string who)
    {
        var builder = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync($"clientsdb-{who}"))
        {
            Pooling = false,
            ApplicationName = "nexuscore-tests",
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task RefusedAsync(NpgsqlConnection db, string sql, string sqlState = PostgresErrorCodes.InsufficientPrivilege)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(db, sql));
        Assert.True(error.SqlState == sqlState, $"'{sql}' failed with {error.SqlState} {error.MessageText}, not {sqlState}");
    }

    private static async Task ExecuteAsync(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<T>> ListAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params string[] parameters)
    {
        await using var command = stack.ClientsDb.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = parameter });
        }

        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>The local port of every loopback TCP connection to <paramref name="serverPort"/>, and its socket's inode (Linux /proc/net/tcp).</summary>
    private static Dictionary<int, long> ClientSockets(int serverPort)
    {
        var sockets = new Dictionary<int, long>();
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var local = int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var remote = int.Parse(fields[2].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var inode = long.Parse(fields[9], CultureInfo.InvariantCulture);
            if (remote == serverPort && inode != 0)
            {
                sockets[local] = inode;
            }
        }

        return sockets;
    }

    /// <summary>Which process holds each of <paramref name="inodes"/> open (every /proc/&lt;pid&gt;/fd link; the tests run as root).</summary>
    private static Dictionary<long, int> SocketOwners(HashSet<long> inodes)
    {
        var owners = new Dictionary<long, int>();
        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out var pid))
            {
                continue;
            }

            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(process, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal)
                        && long.TryParse(target.AsSpan(8, target.Length - 9), CultureInfo.InvariantCulture, out var inode) && inodes.Contains(inode))
                    {
                        owners[inode] = pid;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return owners;
    }

    [GeneratedRegex("^member of `([a-z_]+)`")]
    private static partial Regex MemberOf();

    [GeneratedRegex("^([A-Z]+) on schema `([a-z_]+)`$")]
    private static partial Regex SchemaPrivilege();

    [GeneratedRegex("^((?:`[a-z_.]+`(?:, )?)+): (.+)$")]
    private static partial Regex TablePrivileges();

    [GeneratedRegex(@"([A-Z]+)(?: \(([a-z_, ]+)\))?")]
    private static partial Regex Privilege();
}
