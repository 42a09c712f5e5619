using NexusCore.PerfApi.Sql;
using NexusCore.PerfApi.Analysis.Indexes;
using Npgsql;

namespace NexusCore.PerfApi.Features.SlowQueries;

/// <summary>One <c>pg_stat_statements</c> row of this database: counted since the statistics were last reset.</summary>
public sealed record PgStatRow(string Query, long Calls, double TotalExecTimeMs, double MeanExecTimeMs, long Rows, long SharedBlksHit, long SharedBlksRead);

/// <summary>The rows, or why there are none to join (the extension missing, Postgres unreachable).</summary>
public sealed record PgStatRead(IReadOnlyList<PgStatRow> Rows, string? Unavailable);

internal static class Data
{
    /// <summary>pg_stat_statements keeps 5,000 statements by default; the busiest are the ones worth joining.</summary>
    public const int MaxRows = 5000;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The rows the application's own roles ran (<paramref name="applicationRoles"/>, the index advisor's
    /// <c>IndexAdvisor:ApplicationRoles</c>): a telemetry sender chooses the statement texts slow-queries joins on, and
    /// must not learn another login's figures by sending its text. Failures are said as a SQLSTATE, never Postgres' text.
    /// </summary>
    public static async Task<PgStatRead> ReadPgStatStatementsAsync(NpgsqlDataSource db, IReadOnlyList<string> applicationRoles, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            await using var command = db.CreateCommand("""
                SELECT s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.rows, s.shared_blks_hit, s.shared_blks_read
                FROM pg_stat_statements s
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.query IS NOT NULL
                  AND s.userid IN (SELECT r.oid FROM pg_roles r WHERE r.rolname = ANY($2))
                ORDER BY s.total_exec_time DESC
                LIMIT $1
                """);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxRows });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = applicationRoles.ToArray() });
            var rows = new List<PgStatRow>();
            await using var reader = await command.ExecuteReaderAsync(timeout.Token);
            while (await reader.ReadAsync(timeout.Token))
            {
                rows.Add(new PgStatRow(
                    reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetDouble(3),
                    reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6)));
            }

            return new PgStatRead(rows, null);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            return new PgStatRead([], $"pg_stat_statements is not available in this database ({ex.SqlState})");
        }
        catch (PostgresException ex)
        {
            // Anything else Postgres itself refuses (permissions, a broken view) is said, not thrown.
            return new PgStatRead([], $"pg_stat_statements could not be read ({ex.SqlState})");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new PgStatRead([], $"pg_stat_statements did not answer within {Timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return new PgStatRead([], $"postgres is unreachable ({ex.GetType().Name})");
        }
    }

    /// <summary>Each pg_stat_statements row with its match key (<see cref="StatementMatcher.Key"/>), for <see cref="Join"/>.</summary>
    public static IReadOnlyList<(string Key, PgStatRow Row)> Keys(PgStatRead read) =>
        read.Rows.Select(row => (Key: StatementMatcher.Key(row.Query), Row: row)).ToList();

    /// <summary>The pg_stat_statements entries of each statement in <paramref name="statement"/>, rows with the same key added up.</summary>
    public static IReadOnlyList<PgStatStatement> Join(string statement, IReadOnlyList<(string Key, PgStatRow Row)> pgKeys)
    {
        var joined = new List<PgStatStatement>();
        foreach (var key in StatementMatcher.Keys(statement))
        {
            var rows = pgKeys.Where(p => StatementMatcher.Matches(key, p.Key)).Select(p => p.Row).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            var calls = rows.Sum(r => r.Calls);
            var total = rows.Sum(r => r.TotalExecTimeMs);
            joined.Add(new PgStatStatement(
                rows.MaxBy(r => r.Calls)!.Query,
                calls,
                total,
                calls == 0 ? 0 : total / calls,
                rows.Sum(r => r.Rows),
                rows.Sum(r => r.SharedBlksHit),
                rows.Sum(r => r.SharedBlksRead)));
        }

        return joined;
    }
}
