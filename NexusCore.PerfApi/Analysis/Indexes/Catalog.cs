using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>A table column: its name, the name quoted by the server, and its number.</summary>
internal sealed record CatalogColumn(string Name, string Quoted, short Number);

/// <summary>An index as far as "does a column already lead one" needs.</summary>
/// <param name="Usable">Valid and ready: the planner can use it.</param>
internal sealed record CatalogIndex(uint Oid, string Name, bool Usable, bool Partial, bool Primary, string Method, IReadOnlyList<short> Keys);

/// <summary>A table a statement names, resolved through the server's search_path.</summary>
/// <param name="Rows">The planner's estimate (reltuples), or the live-tuple count for a table never analysed.</param>
/// <param name="SizeBytes">Heap and TOAST (<c>pg_table_size</c>), without indexes.</param>
internal sealed record CatalogTable(
    uint Oid,
    string Schema,
    string Name,
    string QuotedSchema,
    string QuotedName,
    char Kind,
    double Rows,
    long SizeBytes,
    IReadOnlyDictionary<string, CatalogColumn> Columns,
    IReadOnlyList<CatalogIndex> Indexes)
{
    private static readonly HashSet<string> SystemSchemas = new(StringComparer.Ordinal) { "pg_catalog", "information_schema" };

    /// <summary>A user's ordinary table or materialized view (not a view, a catalog or another session's temporary table).</summary>
    public bool IsUserTable =>
        Kind is 'r' or 'm' && !SystemSchemas.Contains(Schema) && !Schema.StartsWith("pg_toast", StringComparison.Ordinal) && !Schema.StartsWith("pg_temp", StringComparison.Ordinal);

    /// <summary>
    /// Whether <paramref name="column"/> already leads an index the planner can use for lookups by it: valid,
    /// not partial, B-tree or hash (the primary key's is one of them).
    /// </summary>
    public bool IsLeading(short column) =>
        Indexes.Any(i => i.Usable && !i.Partial && i.Method is "btree" or "hash" && i.Keys.Count > 0 && i.Keys[0] == column);

    public bool IsPrimaryKeyColumn(short column) => Indexes.Any(i => i.Primary && i.Keys.Contains(column));
}

/// <summary>Catalog reads of the index advisor. Every name that reaches a statement comes from here, quoted by <c>quote_ident</c>.</summary>
internal static class Catalog
{
    /// <summary>Resolves table names as written (schema optional) through the search_path; names that resolve to nothing are left out.</summary>
    public static async Task<IReadOnlyDictionary<(string? Schema, string Name), CatalogTable>> ResolveAsync(
        NpgsqlDataSource db, IReadOnlyCollection<(string? Schema, string Name)> names, CancellationToken ct)
    {
        var result = new Dictionary<(string?, string), CatalogTable>();
        if (names.Count == 0)
        {
            return result;
        }

        var list = names.ToList();
        var oids = new Dictionary<int, (uint Oid, string Schema, string Name, string QSchema, string QName, char Kind, double Rows, long Size)>();
        await using (var command = db.CreateCommand("""
            SELECT r.i::int, c.oid, n.nspname, c.relname, quote_ident(n.nspname), quote_ident(c.relname), c.relkind::text,
                   CASE WHEN c.reltuples >= 0 THEN c.reltuples::float8 ELSE coalesce(s.n_live_tup, 0)::float8 END, pg_table_size(c.oid)
            FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(schema, name, i)
            CROSS JOIN LATERAL (
                SELECT to_regclass(CASE WHEN r.schema IS NULL THEN quote_ident(r.name) ELSE quote_ident(r.schema) || '.' || quote_ident(r.name) END) AS oid
            ) x
            JOIN pg_class c ON c.oid = x.oid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
            """))
        {
            command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = list.Select(n => n.Schema).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = list.Select(n => n.Name).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                oids[reader.GetInt32(0)] = (reader.GetFieldValue<uint>(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetString(6)[0], reader.GetDouble(7), reader.GetInt64(8));
            }
        }

        var tableOids = oids.Values.Select(o => o.Oid).Distinct().ToArray();
        var columns = tableOids.ToDictionary(o => o, _ => new Dictionary<string, CatalogColumn>(StringComparer.Ordinal));
        var indexes = tableOids.ToDictionary(o => o, _ => new List<CatalogIndex>());
        if (tableOids.Length > 0)
        {
            await using var batch = db.CreateBatch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                SELECT a.attrelid, a.attname, quote_ident(a.attname), a.attnum
                FROM pg_attribute a
                WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
                """) { Parameters = { new NpgsqlParameter<uint[]> { TypedValue = tableOids, DataTypeName = "oid[]" } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                SELECT i.indrelid, i.indexrelid, c.relname, i.indisvalid AND i.indisready, i.indpred IS NOT NULL, i.indisprimary, am.amname,
                       (i.indkey::int2[])[0:i.indnkeyatts - 1]
                FROM pg_index i
                JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_am am ON am.oid = c.relam
                WHERE i.indrelid = ANY($1)
                """) { Parameters = { new NpgsqlParameter<uint[]> { TypedValue = tableOids, DataTypeName = "oid[]" } } });
            await using var reader = await batch.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var column = new CatalogColumn(reader.GetString(1), reader.GetString(2), reader.GetInt16(3));
                columns[reader.GetFieldValue<uint>(0)][column.Name] = column;
            }

            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                indexes[reader.GetFieldValue<uint>(0)].Add(new CatalogIndex(
                    reader.GetFieldValue<uint>(1), reader.GetString(2), reader.GetBoolean(3), reader.GetBoolean(4), reader.GetBoolean(5),
                    reader.GetString(6), reader.GetFieldValue<short[]>(7)));
            }
        }

        foreach (var (i, o) in oids)
        {
            result[list[i - 1]] = new CatalogTable(o.Oid, o.Schema, o.Name, o.QSchema, o.QName, o.Kind, o.Rows, o.Size, columns[o.Oid], indexes[o.Oid]);
        }

        return result;
    }

    /// <summary>Whether a relation of this name exists in the schema (an index name must be free).</summary>
    public static async Task<bool> RelationExistsAsync(NpgsqlDataSource db, string schema, string name, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }
}
