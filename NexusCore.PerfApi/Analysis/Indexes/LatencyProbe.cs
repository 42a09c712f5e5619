using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>A statement's cumulative executions and time at one moment.</summary>
public sealed record LatencyReading(long Calls, double TotalMs)
{
    public double? MeanMs => Calls > 0 ? TotalMs / Calls : null;
}

/// <summary>
/// Reads a statement's cumulative calls and total time from pg_stat_statements (every execution by the
/// application's roles since the statistics were reset, by exact text), where the recommendation found it.
/// </summary>
public sealed class LatencyProbe(NpgsqlDataSource db, Microsoft.Extensions.Options.IOptionsMonitor<IndexAdvisorOptions> options)
{
    /// <summary>
    /// The application's writes on a table: every pg_stat_statements row of the application's roles whose text is an
    /// INSERT INTO, UPDATE or DELETE FROM that table (told by its lexed tokens), cumulative calls and time per text.
    /// Only read and compared: nothing here is planned or executed.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, LatencyReading>> ReadWritesAsync(string schema, string table, CancellationToken ct)
    {
        var writes = new Dictionary<string, LatencyReading>(StringComparer.Ordinal);
        try
        {
            await using var command = db.CreateCommand("""
                SELECT s.query, sum(s.calls)::bigint, sum(s.total_exec_time)::float8
                FROM pg_stat_statements s
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND s.userid IN (SELECT r.oid FROM pg_roles r WHERE r.rolname = ANY($1))
                  AND s.query ~* '^[[:space:]]*(insert|update|delete)[^[:alnum:]_]'
                GROUP BY s.query
                LIMIT 1000
                """);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = options.CurrentValue.Roles.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var query = reader.GetString(0);
                if (WriteTarget.Writes(query, schema, table))
                {
                    writes[query] = new LatencyReading(reader.GetInt64(1), reader.GetDouble(2));
                }
            }
        }
        catch (PostgresException)
        {
            // pg_stat_statements unreadable: no write figures, said in the verification as "no writes seen".
        }

        return writes;
    }

    public async Task<LatencyReading?> ReadAsync(IndexQueryEvidence query, CancellationToken ct)
    {
        try
        {
            await using var command = db.CreateCommand("""
                SELECT coalesce(sum(s.calls), 0)::bigint, coalesce(sum(s.total_exec_time), 0)::float8
                FROM pg_stat_statements s
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.query = $1
                  AND s.userid IN (SELECT r.oid FROM pg_roles r WHERE r.rolname = ANY($2))
                """);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Query });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = options.CurrentValue.Roles.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return new LatencyReading(reader.GetInt64(0), reader.GetDouble(1));
        }
        catch (PostgresException)
        {
            return null;
        }
    }
}

/// <summary>Which table an INSERT INTO, UPDATE or DELETE FROM statement writes, from its tokens.</summary>
internal static class WriteTarget
{
    public static bool Writes(string sql, string schema, string table)
    {
        if (Sql.SqlTokenizer.Tokenize(sql) is not { Count: >= 3 } tokens)
        {
            return false;
        }

        var i = tokens[0].Value switch
        {
            "insert" when tokens[1].IsWord("into") => 2,
            "delete" when tokens[1].IsWord("from") => 2,
            "update" => 1,
            _ => -1,
        };
        if (i < 0)
        {
            return false;
        }

        if (tokens[i].IsWord("only") && i + 1 < tokens.Count)
        {
            i++;
        }

        if (!IsName(tokens[i]))
        {
            return false;
        }

        if (i + 2 < tokens.Count && tokens[i + 1].Kind == Sql.SqlTokenKind.Dot && IsName(tokens[i + 2]))
        {
            return tokens[i].Value == schema && tokens[i + 2].Value == table;
        }

        // Unqualified: the table of that name (the application's search_path resolves it; tables here have distinct names).
        return tokens[i].Value == table;
    }

    private static bool IsName(Sql.SqlToken token) => token.Kind is Sql.SqlTokenKind.Word or Sql.SqlTokenKind.QuotedIdentifier;
}
