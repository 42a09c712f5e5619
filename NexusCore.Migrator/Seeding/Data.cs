using System.Collections;
using Npgsql;
using NpgsqlTypes;

namespace NexusCore.Migrator.Seeding;

/// <summary>A secondary index the load may drop and rebuild, as the catalog describes it.</summary>
public sealed record RebuildableIndex(string QualifiedName, string Definition, string? CommentStatement);

/// <summary>
/// The seeder's SQL. Every function runs on the caller's connection, inside the load's transaction.
/// Long statements have no command timeout: on a large table a scan or an index build takes minutes.
/// </summary>
internal static class Data
{
    /// <summary>
    /// Conflicts with itself and with every writer but not with readers: concurrent seeders queue, and
    /// no client can be written between reading which ordinals exist and copying the missing ones.
    /// </summary>
    public static Task LockClientsAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, "LOCK TABLE clients IN SHARE ROW EXCLUSIVE MODE", cancellationToken);

    /// <summary>For a load that drops and rebuilds indexes: readers wait for it rather than scan without them.</summary>
    public static Task LockClientsExclusivelyAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, "LOCK TABLE clients IN ACCESS EXCLUSIVE MODE", cancellationToken);

    public static async Task SetMaintenanceWorkMemAsync(NpgsqlConnection connection, string value, CancellationToken cancellationToken)
    {
        // set_config(..., true) is SET LOCAL: it ends with the transaction.
        await using var command = new NpgsqlCommand("SELECT set_config('maintenance_work_mem', $1, true)", connection)
        {
            Parameters = { new NpgsqlParameter<string> { TypedValue = value } },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The ordinals 1..upTo already used by an email of the seed domain, in any letter case and whoever
    /// wrote the row: a seeded email embeds its ordinal, so skipping these is what keeps a load from
    /// colliding with the unique index on lower(email), and what makes a rerun add nothing.
    /// </summary>
    /// <remarks>
    /// The ordinal is the digits after the local part's last dot, cut with split_part and checked
    /// with ltrim: a regular expression over the whole email made this scan ten times slower
    /// (28 s instead of 2 s for 1.2M rows).
    /// </remarks>
    public static async Task<BitArray> ReadTakenOrdinalsAsync(NpgsqlConnection connection, int upTo, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT tail::bigint
            FROM (
                SELECT split_part(split_part(lower(email), '@', 1), '.', -1) AS tail
                FROM clients
                WHERE lower(email) LIKE '%@seed.nexuscore.test'
            ) seeded
            WHERE length(tail) BETWEEN 1 AND 18 AND ltrim(tail, '0123456789') = ''
            """,
            connection)
        {
            CommandTimeout = 0,
        };

        var taken = new BitArray(upTo + 1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // Filtered here, not in SQL, where the cast could run before the digits check.
            if (reader.GetInt64(0) is var ordinal and >= 1 && ordinal <= upTo)
            {
                taken[(int)ordinal] = true;
            }
        }

        return taken;
    }

    public static async Task<long> CountClientsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM clients", connection) { CommandTimeout = 0 };
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// The secondary indexes of <c>clients</c> that can be dropped and recreated exactly from
    /// pg_get_indexdef, whatever migrations created them. Left in place: indexes behind a constraint
    /// (primary key, unique, exclusion, or a foreign key that references this table), invalid ones, and
    /// those carrying state the definition does not hold (tablespace, CLUSTER mark, replica identity,
    /// per-column statistics targets). Comments are recreated.
    /// </summary>
    public static async Task<IReadOnlyList<RebuildableIndex>> ReadRebuildableIndexesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT format('%I.%I', n.nspname, ic.relname),
                   pg_get_indexdef(i.indexrelid),
                   CASE WHEN d.description IS NOT NULL
                        THEN format('COMMENT ON INDEX %I.%I IS %L', n.nspname, ic.relname, d.description)
                   END
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_namespace n ON n.oid = ic.relnamespace
            LEFT JOIN pg_description d
                   ON d.objoid = i.indexrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
            WHERE i.indrelid = 'clients'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
              AND i.indisvalid AND i.indisready AND i.indislive
              AND NOT i.indisclustered AND NOT i.indisreplident
              AND ic.reltablespace = 0
              AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0)
            -- Unique indexes first: if one cannot be rebuilt, the load fails before the long builds.
            ORDER BY i.indisunique DESC, ic.relname
            """,
            connection);

        var indexes = new List<RebuildableIndex>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            indexes.Add(new RebuildableIndex(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return indexes;
    }

    // The names and definitions below come from the catalog, quoted by the server (format %I, pg_get_indexdef).
    public static Task DropIndexAsync(NpgsqlConnection connection, RebuildableIndex index, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, $"DROP INDEX {index.QualifiedName}", cancellationToken);

    public static async Task CreateIndexAsync(NpgsqlConnection connection, RebuildableIndex index, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, index.Definition, cancellationToken);
        if (index.CommentStatement is { } comment)
        {
            await ExecuteAsync(connection, comment, cancellationToken);
        }
    }

    /// <summary>
    /// Binary COPY of the clients, streamed as they are generated. COPY fires the table's triggers
    /// (statement-level ones once, with every copied row in their transition table), so counters
    /// that triggers maintain stay exact.
    /// </summary>
    public static async Task<ulong> CopyAsync(
        NpgsqlConnection connection,
        IEnumerable<SeedClient> clients,
        int progressEvery,
        Action<long> onProgress,
        CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            "COPY clients (name, email, status, program_type, created_at, updated_at, version) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        // Completing waits for the server to finish the rows and run the statement triggers.
        importer.Timeout = TimeSpan.Zero;

        long written = 0;
        foreach (var client in clients)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(client.Name, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(client.Email, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(client.Status, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(client.ProgramType, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(client.CreatedAt, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(client.UpdatedAt, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(client.Version, NpgsqlDbType.Integer, cancellationToken);
            if (++written % progressEvery == 0)
            {
                onProgress(written);
            }
        }

        return await importer.CompleteAsync(cancellationToken);
    }

    /// <summary>
    /// Fresh statistics, so that the first queries after a large load are planned for its size, and the
    /// loaded pages marked all-visible, so that reads by id are index-only scans of the covering primary
    /// key from the first request instead of after autovacuum's next pass.
    /// </summary>
    public static Task VacuumClientsAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, "VACUUM (ANALYZE) clients", cancellationToken);

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
