using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>A generic plan's total cost, and every table it reads whole (with the filter applied while reading).</summary>
internal sealed record PlanSummary(double TotalCost, IReadOnlyList<SequentialScan> SequentialScans)
{
    /// <summary>The indexes the plan reads (index, index-only and bitmap index scans), by name.</summary>
    public IReadOnlySet<string> Indexes { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}

/// <summary>A sequential scan in a plan: the table (schema and name as the plan names them) and its filter, if any.</summary>
internal sealed record SequentialScan(string? Schema, string Table, string? Filter, double TotalCost);

/// <summary>A plan, or PostgreSQL's reason for not making one.</summary>
internal sealed record PlanResult(PlanSummary? Plan, string? Error);

/// <summary>
/// One dedicated, unpooled connection for one analysis, under the planning role (<see cref="AdvisorConnections.Planning"/>).
/// Each statement is planned in its own read-only transaction that is rolled back, with <c>statement_timeout</c>
/// and <c>lock_timeout</c> set locally, so nothing is ever written and no lock outlives the statement's analysis.
/// Only a text <see cref="PlanningAllowlist"/> allows is ever sent, and what PostgreSQL refuses comes back as a
/// SQLSTATE and a fixed message (<see cref="AdvisorErrors"/>), never as PostgreSQL's text.
/// <para>
/// PostgreSQL 15 has no <c>EXPLAIN (GENERIC_PLAN)</c>. The parameterized text is prepared under
/// <c>plan_cache_mode = force_generic_plan</c> and explained with <c>EXECUTE name(NULL, …)</c>: the plan cache then
/// returns the generic plan, made without looking at the values, so NULLs are as good as any. The plan cache
/// does not see hypothetical indexes come and go, so each plan prepares the statement afresh and deallocates it.
/// </para>
/// HypoPG's hypothetical indexes live in the backend, not in the transaction: they are dropped one by one and
/// reset when the session ends; the connection is closed, not pooled, so nothing of it is reused.
/// </summary>
internal sealed class PlanningSession : IAsyncDisposable
{
    private const string StatementName = "nexuscore_index_advisor";

    private readonly NpgsqlConnection _connection;
    private readonly IndexAdvisorOptions _options;
    private readonly string? _hypoPgSchema;
    private bool _inTransaction;
    private bool _usedHypoPg;

    private PlanningSession(NpgsqlConnection connection, IndexAdvisorOptions options, string? hypoPgSchema)
    {
        _connection = connection;
        _options = options;
        _hypoPgSchema = hypoPgSchema;
    }

    /// <param name="hypoPgSchema">The quoted schema of the hypopg extension, null when it is unavailable.</param>
    public static async Task<PlanningSession> OpenAsync(AdvisorConnections connections, IndexAdvisorOptions options, string? hypoPgSchema, CancellationToken ct)
    {
        var connection = await connections.Planning.OpenConnectionAsync(ct);
        try
        {
            // The advisor's own PREPARE, EXPLAIN and savepoints are not the application's statements: keep them out
            // of pg_stat_statements where the role may say so (a superuser setting; others simply get them recorded).
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT set_config('pg_stat_statements.track', 'none', false)";
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException)
        {
        }

        return new PlanningSession(connection, options, hypoPgSchema);
    }

    /// <summary>Starts the read-only transaction one statement is analysed in.</summary>
    public async Task BeginAsync(CancellationToken ct)
    {
        await ExecuteAsync("BEGIN TRANSACTION READ ONLY", ct);
        _inTransaction = true;
        // Local to the transaction: the rollback restores the session's own settings.
        await using var settings = _connection.CreateCommand();
        settings.CommandText = "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true), set_config('plan_cache_mode', 'force_generic_plan', true)";
        settings.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(_options.PlanStatementTimeout) });
        settings.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(_options.PlanLockTimeout) });
        await settings.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Whether the connection is still usable: a fatal error (a protocol violation) closes it.</summary>
    public bool IsOpen => _connection.State == System.Data.ConnectionState.Open;

    /// <summary>
    /// Rolls the statement's transaction back (it wrote nothing; this ends its locks and settings). Nothing to do
    /// once the connection is closed: the transaction ended with its backend.
    /// </summary>
    public async Task RollbackAsync(CancellationToken ct)
    {
        if (!_inTransaction || !IsOpen)
        {
            _inTransaction = false;
            return;
        }

        _inTransaction = false;
        await using var command = _connection.CreateCommand();
        command.CommandText = "ROLLBACK";
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The generic plan of <paramref name="text"/> (a single statement with <c>$1…$n</c>), or why there is none:
    /// the allowlist's refusal (nothing is sent), or the SQLSTATE and our message for what PostgreSQL refused.
    /// The text has been checked to be one statement; it is prepared in a read-only transaction regardless.
    /// </summary>
    public async Task<PlanResult> PlanAsync(string text, int parameterCount, CancellationToken ct)
    {
        // The one door to PREPARE: whoever calls, a statement outside the allowlist never reaches the database.
        if (PlanningAllowlist.Refusal(text) is { } refusal)
        {
            return new PlanResult(null, refusal);
        }

        var execute = new StringBuilder("EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE ").Append(StatementName);
        if (parameterCount > 0)
        {
            execute.Append('(').AppendJoin(", ", Enumerable.Repeat("NULL", parameterCount)).Append(')');
        }

        return await InSavepointAsync(async () =>
        {
            await using var batch = _connection.CreateBatch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"PREPARE {StatementName} AS {text}"));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(execute.ToString()));
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"DEALLOCATE {StatementName}"));
            string? json = null;
            await using (var reader = await batch.ExecuteReaderAsync(ct))
            {
                do
                {
                    while (await reader.ReadAsync(ct))
                    {
                        json = reader.GetString(0);
                    }
                }
                while (await reader.NextResultAsync(ct));
            }

            return json is null ? new PlanResult(null, "EXPLAIN returned no plan") : new PlanResult(Summarize(json), null);
        }, error => new PlanResult(null, error), deallocate: true, ct);
    }

    /// <summary>Creates a hypothetical B-tree index; its oid and HypoPG's size estimate, or the SQLSTATE and our message.</summary>
    public async Task<(uint Oid, long? SizeBytes, string? Error)> CreateHypotheticalAsync(string createIndex, CancellationToken ct)
    {
        var schema = _hypoPgSchema ?? throw new InvalidOperationException("HypoPG is not available in this session.");
        _usedHypoPg = true;
        return await InSavepointAsync(async () =>
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT h.indexrelid, {schema}.hypopg_relation_size(h.indexrelid) FROM {schema}.hypopg_create_index($1) h";
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = createIndex });
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return (0u, (long?)null, (string?)"HypoPG created no index");
            }

            return (reader.GetFieldValue<uint>(0), reader.IsDBNull(1) ? (long?)null : reader.GetInt64(1), (string?)null);
        }, error => (0u, null, error), deallocate: false, ct);
    }

    /// <summary>Drops a hypothetical index; nothing to do once the connection is closed (they live in the backend).</summary>
    public async Task DropHypotheticalAsync(uint oid, CancellationToken ct)
    {
        if (!IsOpen)
        {
            return;
        }

        await using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT {_hypoPgSchema}.hypopg_drop_index($1)";
        command.Parameters.Add(new NpgsqlParameter<uint> { TypedValue = oid, DataTypeName = "oid" });
        await command.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_connection.State == System.Data.ConnectionState.Open)
            {
                using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await RollbackAsync(cleanup.Token);
                if (_usedHypoPg)
                {
                    await using var command = _connection.CreateCommand();
                    command.CommandText = $"SELECT {_hypoPgSchema}.hypopg_reset()";
                    await command.ExecuteNonQueryAsync(cleanup.Token);
                }
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or InvalidOperationException)
        {
            // The connection is closed below and never pooled: whatever it held ends with its backend.
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a savepoint so that PostgreSQL refusing it (a statement that no longer
    /// plans, a type without a B-tree operator class) leaves the transaction usable for the next candidate. An
    /// error that closed the connection (FATAL) is thrown: there is no savepoint left to return to.
    /// </summary>
    private async Task<T> InSavepointAsync<T>(Func<Task<T>> work, Func<string, T> failed, bool deallocate, CancellationToken ct)
    {
        await ExecuteAsync("SAVEPOINT advisor_step", ct);
        try
        {
            var result = await work();
            await ExecuteAsync("RELEASE SAVEPOINT advisor_step", ct);
            return result;
        }
        catch (PostgresException ex) when (IsOpen)
        {
            await ExecuteAsync("ROLLBACK TO SAVEPOINT advisor_step", ct);
            if (deallocate)
            {
                // Prepared statements are not transactional: one prepared before the failing EXPLAIN is still there.
                await ExecuteAsync("DEALLOCATE ALL", ct);
            }

            return failed(AdvisorErrors.Describe(ex).ToString());
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var command = _connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string Milliseconds(TimeSpan span) => ((long)Math.Ceiling(span.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    /// <summary>Reads EXPLAIN's JSON: the top node's total cost and the sequential scans anywhere in the tree.</summary>
    internal static PlanSummary Summarize(string json)
    {
        using var document = JsonDocument.Parse(json);
        var plan = document.RootElement[0].GetProperty("Plan");
        var scans = new List<SequentialScan>();
        var indexes = new HashSet<string>(StringComparer.Ordinal);
        Visit(plan, scans, indexes);
        return new PlanSummary(plan.GetProperty("Total Cost").GetDouble(), scans) { Indexes = indexes };

        static void Visit(JsonElement node, List<SequentialScan> scans, HashSet<string> indexes)
        {
            if (node.TryGetProperty("Index Name", out var index) && index.GetString() is { } name)
            {
                indexes.Add(name);
            }

            if (node.TryGetProperty("Node Type", out var type) && type.GetString() == "Seq Scan" && node.TryGetProperty("Relation Name", out var relation))
            {
                scans.Add(new SequentialScan(
                    node.TryGetProperty("Schema", out var schema) ? schema.GetString() : null,
                    relation.GetString()!,
                    node.TryGetProperty("Filter", out var filter) ? filter.GetString() : null,
                    node.GetProperty("Total Cost").GetDouble()));
            }

            if (node.TryGetProperty("Plans", out var children))
            {
                foreach (var child in children.EnumerateArray())
                {
                    Visit(child, scans, indexes);
                }
            }
        }
    }
}
