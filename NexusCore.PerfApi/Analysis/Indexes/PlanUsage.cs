using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>Whether plans were checked before an index was proposed for retirement.</summary>
public enum RetireProof
{
    /// <summary>No generic plan of the application's statements on the table uses the index.</summary>
    Proven,

    /// <summary>
    /// A duplicate or prefix that plans do use: the plan without it cannot be shown (that needs HypoPG 1.4's
    /// <c>hypopg_hide_index</c>; dropping it to see would lock a live table), so the advice is not proven.
    /// </summary>
    NotProven,

    /// <summary>No analysis has planned the application's statements yet.</summary>
    NotChecked,
}

/// <summary>One application statement re-planned for the retirement proof: the tables it names and the indexes its generic plan reads.</summary>
internal sealed record PlannedStatement(string Query, IReadOnlySet<string> Tables, IReadOnlySet<string> Indexes);

/// <summary>
/// Re-plans the statements the application's roles ran (pg_stat_statements, any call count, the busiest
/// <see cref="MaxStatements"/> by calls) to see which indexes their generic plans use. Same trust boundary as the
/// analysis: only those rows, only through <see cref="PlanningSession"/> (allowlist, read-only, timeouts, the planning
/// role). Runs with each analysis, so it shares its rate limit.
/// </summary>
internal static class PlanUsage
{
    public const int MaxStatements = 200;

    public static async Task<IReadOnlyList<PlannedStatement>> ReadAsync(NpgsqlDataSource db, AdvisorConnections connections, IndexAdvisorOptions options, CancellationToken ct)
    {
        var texts = new List<string>();
        await using (var command = db.CreateCommand("""
            SELECT s.query
            FROM pg_stat_statements s
            WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND s.userid IN (SELECT r.oid FROM pg_roles r WHERE r.rolname = ANY($1))
              AND s.query ~* '^[[:space:](]*(select|with|update|delete)[^[:alnum:]_]'
            GROUP BY s.query
            ORDER BY sum(s.calls) DESC
            LIMIT $2
            """))
        {
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = options.Roles.ToArray() });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxStatements });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                texts.Add(reader.GetString(0));
            }
        }

        var planned = new List<PlannedStatement>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.AnalysisTimeout);
        PlanningSession? session = null;
        try
        {
            foreach (var text in texts)
            {
                if (QueryShapeParser.Parse(text).Statement is not { } parsed || PlanningAllowlist.Refusal(text) is not null)
                {
                    continue;
                }

                session ??= await PlanningSession.OpenAsync(connections, options, null, timeout.Token);
                try
                {
                    await session.BeginAsync(timeout.Token);
                    try
                    {
                        if ((await session.PlanAsync(text, parsed.ParameterCount, timeout.Token)).Plan is { } plan)
                        {
                            planned.Add(new PlannedStatement(text, parsed.Tables.Select(t => t.Name).ToHashSet(StringComparer.Ordinal), plan.Indexes));
                        }
                    }
                    finally
                    {
                        await session.RollbackAsync(timeout.Token);
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ArgumentException && !timeout.IsCancellationRequested)
                {
                    // A statement that broke the session is not checked; the next one gets a new session.
                    await session.DisposeAsync();
                    session = null;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Out of time: what was planned so far is the evidence; statements not reached are not "checked".
        }
        finally
        {
            if (session is not null)
            {
                await session.DisposeAsync();
            }
        }

        return planned;
    }
}
