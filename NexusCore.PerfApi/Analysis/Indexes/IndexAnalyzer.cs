using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NexusCore.PerfApi.Store;
using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>
/// One analysis: reads the busiest statements the application's roles ran (<see cref="StatementSources"/>; telemetry
/// only adds evidence to them), refuses those outside the planning allowlist (<see cref="PlanningAllowlist"/>), finds
/// the columns an index could serve in each, and proves each candidate index with HypoPG against the statement's
/// generic plan (see <see cref="PlanningSession"/>), keeping those that cut the planner's cost by
/// <see cref="IndexAdvisorOptions.MinCostSavingPercent"/>. Without HypoPG it falls back to heuristic advice: a column
/// the plan filters a whole-table scan on. Never throws for what the database refuses: each statement's outcome
/// says what happened to it, as a SQLSTATE and a fixed message (<see cref="AdvisorErrors"/>).
/// </summary>
public sealed partial class IndexAnalyzer(
    NpgsqlDataSource db,
    AdvisorConnections connections,
    TelemetryStore store,
    TimeProvider time,
    ILogger<IndexAnalyzer> logger)
{
    private const double BytesPerMb = 1024 * 1024;

    /// <summary>A narrower index is preferred when its cost is within this factor of the best candidate's.</summary>
    private const double NarrowerPreference = 1.10;

    public async Task<IndexAnalysis> AnalyzeAsync(IndexAdvisorOptions options, TimeSpan slowThreshold, CancellationToken ct)
    {
        var startedAt = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(options.AnalysisTimeout.TotalSeconds * Stopwatch.Frequency);

        var (hypoPgSchema, hypoPgDetail) = options.UseHypoPg
            ? await EnsureHypoPgAsync(options.CreateHypoPgExtension, ct)
            : (null, "IndexAdvisor:UseHypoPg is false; index advice is heuristic, not proven");
        var observed = await StatementSources.ReadAsync(db, store, options, slowThreshold, ct);

        var parsed = new List<(ObservedStatement Statement, ParsedStatement? Parsed, string? Rejected)>();
        foreach (var statement in observed.Statements)
        {
            var result = QueryShapeParser.Parse(statement.Query);
            var refusal = result.Statement is null ? result.Rejected : PlanningAllowlist.Refusal(statement.Query);
            parsed.Add((statement, refusal is null ? result.Statement : null, refusal));
        }

        var names = parsed.Where(p => p.Parsed is not null)
            .SelectMany(p => p.Parsed!.Tables.Where(t => !IsCte(p.Parsed, t)).Select(t => (t.Schema, t.Name)))
            .Distinct()
            .ToList();
        var catalog = await Catalog.ResolveAsync(db, names, ct);

        var outcomes = new AnalyzedStatement[parsed.Count];
        var work = new List<(int Index, ParsedStatement Parsed, IReadOnlyList<Candidate> Candidates, IReadOnlyList<CatalogTable> Tables)>();
        for (var i = 0; i < parsed.Count; i++)
        {
            var (statement, statementParse, rejected) = parsed[i];
            if (statementParse is null)
            {
                outcomes[i] = Outcome(statement, StatementOutcome.Rejected, rejected);
                continue;
            }

            var (candidates, tables, outcome, detail) = FindCandidates(statementParse, catalog, options);
            if (candidates.Count == 0)
            {
                outcomes[i] = Outcome(statement, outcome, detail);
                continue;
            }

            work.Add((i, statementParse, candidates, tables));
        }

        var found = new List<Found>();
        PlanningSession? session = null;
        try
        {
            foreach (var (index, statementParse, candidates, tables) in work)
            {
                var statement = parsed[index].Statement;
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    outcomes[index] = Outcome(statement, StatementOutcome.NotReached, $"the analysis reached its limit of {options.AnalysisTimeout.TotalSeconds:0} s");
                    continue;
                }

                session ??= await PlanningSession.OpenAsync(connections, options, hypoPgSchema, ct);
                var foundBefore = found.Count;
                try
                {
                    await session.BeginAsync(ct);
                    try
                    {
                        outcomes[index] = hypoPgSchema is null
                            ? await HeuristicAsync(session, statement, statementParse, candidates, tables, found, ct)
                            : await ProveAsync(session, statement, statementParse, candidates, options, deadline, found, ct);
                    }
                    finally
                    {
                        await session.RollbackAsync(ct);
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ArgumentException && !ct.IsCancellationRequested)
                {
                    // Something PostgreSQL refuses is caught in the session and said as unplannable; this is what it
                    // could not catch (a text that broke the protocol and closed the connection, one Npgsql could not
                    // send). The statement is skipped, said in its outcome, and the next one gets a new session:
                    // one statement never fails the analysis of the others. Neither says PostgreSQL's text.
                    found.RemoveRange(foundBefore, found.Count - foundBefore);
                    var error = AdvisorErrors.Describe(ex);
                    outcomes[index] = Outcome(statement, StatementOutcome.Unplannable, $"skipped: planning it failed outside PostgreSQL's error handling ({error})");
                    LogStatementSkipped(error.Code, statement.Query);
                    await session.DisposeAsync();
                    session = null;
                }
            }
        }
        finally
        {
            if (session is not null)
            {
                await session.DisposeAsync();
            }
        }

        var recommendations = await RecommendAsync(found, options, ct);
        LogAnalysed(observed.Statements.Count, recommendations.Count, hypoPgSchema is not null, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new IndexAnalysis(
            startedAt,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            hypoPgSchema is not null,
            hypoPgDetail,
            observed.PgStatStatementsUnavailable,
            observed.TelemetryUnmatched,
            recommendations,
            outcomes);
    }

    /// <summary>A candidate index: a table and one or two of its columns, in key order.</summary>
    internal sealed record Candidate(CatalogTable Table, IReadOnlyList<CatalogColumn> Columns)
    {
        public string Key { get; } = $"{Table.Oid}:{string.Join(',', Columns.Select(c => c.Number))}";

        public string HypotheticalStatement => $"CREATE INDEX ON {Table.QuotedSchema}.{Table.QuotedName} ({string.Join(", ", Columns.Select(c => c.Quoted))})";
    }

    /// <summary>A candidate that passed for a statement, with every candidate's cost for that statement.</summary>
    private sealed record Found(
        ObservedStatement Statement,
        Candidate Candidate,
        IndexProof Proof,
        double CostBefore,
        double? CostAfter,
        long? SizeBytes,
        IReadOnlyDictionary<string, double> CostByCandidate);

    /// <summary>
    /// The candidates of one statement: for each table large enough, one-column indexes on the columns it is
    /// filtered (equality, then range), joined and sorted on, and two-column ones (equality + equality, equality +
    /// range, equality + sort, sort + sort), none led by a column that already leads an index or is in the primary key.
    /// </summary>
    internal static (IReadOnlyList<Candidate> Candidates, IReadOnlyList<CatalogTable> Tables, StatementOutcome Outcome, string? Detail) FindCandidates(
        ParsedStatement statement, IReadOnlyDictionary<(string? Schema, string Name), CatalogTable> catalog, IndexAdvisorOptions options)
    {
        var tables = new List<CatalogTable>();
        var byQualifier = new Dictionary<string, CatalogTable>(StringComparer.Ordinal);
        foreach (var reference in statement.Tables.Where(t => !IsCte(statement, t)))
        {
            if (catalog.TryGetValue((reference.Schema, reference.Name), out var table))
            {
                tables.Add(table);
                byQualifier[reference.Alias ?? reference.Name] = table;
                byQualifier.TryAdd(reference.Name, table);
            }
        }

        tables = tables.DistinctBy(t => t.Oid).ToList();
        if (tables.Count > 0 && tables.All(t => !t.IsUserTable))
        {
            return ([], tables, StatementOutcome.NoCandidates, "it reads only system catalogs or views");
        }

        var uses = new List<(CatalogTable Table, CatalogColumn Column, ColumnRole Role, int Position)>();
        foreach (var reference in statement.Columns)
        {
            CatalogTable? table;
            if (reference.Qualifier is not null)
            {
                table = byQualifier.GetValueOrDefault(reference.Qualifier);
            }
            else
            {
                var owners = tables.Where(t => t.Columns.ContainsKey(reference.Column)).ToList();
                table = owners.Count == 1 ? owners[0] : null;
            }

            if (table is not null && table.Columns.TryGetValue(reference.Column, out var column))
            {
                uses.Add((table, column, reference.Role, reference.Position));
            }
        }

        if (uses.Count == 0)
        {
            return ([], tables, StatementOutcome.NoCandidates, tables.Count == 0
                ? "none of the tables it names is a table of this database"
                : "it compares no plain column with a value, joins on none and sorts by none");
        }

        var minBytes = options.MinTableSizeMb * BytesPerMb;
        uses = uses.Where(u => u.Table.IsUserTable).ToList();
        var small = uses.Select(u => u.Table).Where(t => t.Rows < options.MinTableRows || t.SizeBytes < minBytes).DistinctBy(t => t.Oid).ToList();
        var eligible = uses.Where(u => !small.Contains(u.Table)).ToList();
        if (eligible.Count == 0 && small.Count > 0)
        {
            return ([], tables, StatementOutcome.SmallTables, string.Join("; ", small.Select(t =>
                $"{t.Schema}.{t.Name}: {t.Rows:0} rows, {t.SizeBytes / BytesPerMb:0.#} MB (an index pays from {options.MinTableRows} rows and {options.MinTableSizeMb:0.#} MB)")));
        }

        if (eligible.Count == 0)
        {
            return ([], tables, StatementOutcome.NoCandidates, "the columns it compares, joins or sorts on are in system catalogs or views");
        }

        var candidates = new List<Candidate>();
        var covered = new List<string>();
        foreach (var group in eligible.GroupBy(u => u.Table.Oid))
        {
            var table = group.First().Table;
            var equality = group.Where(u => u.Role is ColumnRole.Equality or ColumnRole.Join).Select(u => u.Column).DistinctBy(c => c.Number).ToList();
            var range = group.Where(u => u.Role == ColumnRole.Range).Select(u => u.Column).DistinctBy(c => c.Number).ToList();
            var order = group.Where(u => u.Role == ColumnRole.Order).OrderBy(u => u.Position).Select(u => u.Column).DistinctBy(c => c.Number).ToList();

            var lists = new List<CatalogColumn[]>();
            lists.AddRange(equality.Select(c => new[] { c }));
            lists.AddRange(range.Select(c => new[] { c }));
            lists.AddRange(order.Take(1).Select(c => new[] { c }));
            lists.AddRange(from a in equality from b in equality where a.Number != b.Number select new[] { a, b });
            lists.AddRange(from a in equality from b in range where a.Number != b.Number select new[] { a, b });
            lists.AddRange(from a in equality from b in order.Take(1) where a.Number != b.Number select new[] { a, b });
            if (order.Count >= 2)
            {
                lists.Add([order[0], order[1]]);
            }

            foreach (var columns in lists)
            {
                var leading = columns[0];
                if (table.IsLeading(leading.Number) || table.IsPrimaryKeyColumn(leading.Number))
                {
                    covered.Add(Covered(table, leading));
                    continue;
                }

                candidates.Add(new Candidate(table, columns));
            }
        }

        candidates = candidates.DistinctBy(c => c.Key).Take(options.MaxCandidatesPerStatement).ToList();
        if (candidates.Count > 0)
        {
            return (candidates, tables, StatementOutcome.Recommended, null);
        }

        return ([], tables, StatementOutcome.Covered, string.Join("; ", covered.Distinct()));
    }

    private static string Covered(CatalogTable table, CatalogColumn column)
    {
        var index = table.Indexes.FirstOrDefault(i => i.Usable && !i.Partial && i.Keys.Count > 0 && i.Keys[0] == column.Number);
        return index is not null
            ? $"{table.Schema}.{table.Name}.{column.Name} leads index {index.Name}"
            : $"{table.Schema}.{table.Name}.{column.Name} is in the primary key";
    }

    /// <summary>Plans the statement, then each candidate as a hypothetical index, and keeps the best that passes.</summary>
    private static async Task<AnalyzedStatement> ProveAsync(
        PlanningSession session, ObservedStatement statement, ParsedStatement parsed, IReadOnlyList<Candidate> candidates,
        IndexAdvisorOptions options, long deadline, List<Found> found, CancellationToken ct)
    {
        var baseline = await session.PlanAsync(statement.Query, parsed.ParameterCount, ct);
        if (baseline.Plan is not { } before)
        {
            return Outcome(statement, StatementOutcome.Unplannable, baseline.Error);
        }

        var costs = new Dictionary<string, (Candidate Candidate, double Cost, long? Size)>(StringComparer.Ordinal);
        foreach (var candidate in candidates)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                break;
            }

            var (oid, size, error) = await session.CreateHypotheticalAsync(candidate.HypotheticalStatement, ct);
            if (error is not null)
            {
                continue;
            }

            try
            {
                if ((await session.PlanAsync(statement.Query, parsed.ParameterCount, ct)).Plan is { } after)
                {
                    costs[candidate.Key] = (candidate, after.TotalCost, size);
                }
            }
            finally
            {
                await session.DropHypotheticalAsync(oid, ct);
            }
        }

        var limit = before.TotalCost * (1 - options.MinCostSavingPercent / 100);
        var passing = costs.Values.Where(c => c.Cost <= limit).ToList();
        if (passing.Count == 0)
        {
            var best = costs.Values.Select(c => (double?)c.Cost).Min();
            return Outcome(statement, StatementOutcome.NoGain, best is { } cost
                ? $"the best of {costs.Count} candidates cuts the cost from {Round(before.TotalCost)} to {Round(cost)} ({Round(Saving(before.TotalCost, cost))} %), below the {options.MinCostSavingPercent:0.#} % threshold"
                : $"none of its {candidates.Count} candidates could be planned");
        }

        var lowest = passing.Min(c => c.Cost);
        var chosen = passing.Where(c => c.Cost <= lowest * NarrowerPreference + 0.01).OrderBy(c => c.Candidate.Columns.Count).ThenBy(c => c.Cost).First();
        found.Add(new Found(statement, chosen.Candidate, IndexProof.Hypopg, before.TotalCost, chosen.Cost, chosen.Size, costs.ToDictionary(c => c.Key, c => c.Value.Cost)));
        return Outcome(statement, StatementOutcome.Recommended, null);
    }

    /// <summary>Without HypoPG: a column the plan filters a whole-table scan on, among the candidates' leading columns.</summary>
    private static async Task<AnalyzedStatement> HeuristicAsync(
        PlanningSession session, ObservedStatement statement, ParsedStatement parsed, IReadOnlyList<Candidate> candidates,
        IReadOnlyList<CatalogTable> tables, List<Found> found, CancellationToken ct)
    {
        var baseline = await session.PlanAsync(statement.Query, parsed.ParameterCount, ct);
        if (baseline.Plan is not { } plan)
        {
            return Outcome(statement, StatementOutcome.Unplannable, baseline.Error);
        }

        var any = false;
        foreach (var scan in plan.SequentialScans.Where(s => s.Filter is not null))
        {
            var single = candidates.FirstOrDefault(c => c.Columns.Count == 1
                && c.Table.Name == scan.Table && (scan.Schema is null || scan.Schema == c.Table.Schema)
                && Mentions(scan.Filter!, c.Columns[0].Name));
            if (single is not null)
            {
                found.Add(new Found(statement, single, IndexProof.Heuristic, plan.TotalCost, null, null, new Dictionary<string, double>()));
                any = true;
            }
        }

        return any
            ? Outcome(statement, StatementOutcome.Recommended, "heuristic: HypoPG is unavailable")
            : Outcome(statement, StatementOutcome.NoGain, "heuristic: its plan reads no large table whole filtering on a candidate column");
    }

    /// <summary>Merges what each statement chose into one recommendation per index, and names the indexes.</summary>
    private async Task<IReadOnlyList<IndexRecommendation>> RecommendAsync(List<Found> found, IndexAdvisorOptions options, CancellationToken ct)
    {
        var groups = found.GroupBy(f => f.Candidate.Key).ToDictionary(g => g.Key, g => g.ToList());

        // An index whose keys start another recommended index's keys is dropped when the wider one serves its
        // statements as well (it passed for each of them too): one index instead of two.
        var limitFactor = 1 - options.MinCostSavingPercent / 100;
        foreach (var narrow in groups.Keys.ToList())
        {
            var narrowCandidate = groups[narrow][0].Candidate;
            var wider = groups.Keys.Where(k => k != narrow).Select(k => groups[k][0]).FirstOrDefault(w =>
                w.Candidate.Table.Oid == narrowCandidate.Table.Oid
                && w.Candidate.Columns.Count > narrowCandidate.Columns.Count
                && w.Candidate.Columns.Take(narrowCandidate.Columns.Count).Select(c => c.Number).SequenceEqual(narrowCandidate.Columns.Select(c => c.Number))
                && groups[narrow].All(n => n.CostByCandidate.TryGetValue(w.Candidate.Key, out var cost) && cost <= n.CostBefore * limitFactor));
            if (wider is not null)
            {
                groups[wider.Candidate.Key].AddRange(groups[narrow].Select(n => n with
                {
                    Candidate = wider.Candidate,
                    CostAfter = n.CostByCandidate[wider.Candidate.Key],
                }));
                groups.Remove(narrow);
            }
        }

        var recommendations = new List<IndexRecommendation>();
        foreach (var group in groups.Values)
        {
            var candidate = group[0].Candidate;
            var table = candidate.Table;
            var queries = group
                .DistinctBy(f => f.Statement.Query)
                .OrderByDescending(f => f.Statement.TotalMs)
                .Select(f => new IndexQueryEvidence(
                    f.Statement.Query, f.Statement.Source, f.Statement.Telemetry, f.Statement.Calls, Round(f.Statement.MeanMs),
                    Round(f.Statement.TotalMs), Round(f.CostBefore), f.CostAfter is { } a ? Round(a) : null,
                    f.CostAfter is { } after ? Round(Saving(f.CostBefore, after)) : null))
                .ToList();
            var name = await FreeIndexNameAsync(table, candidate.Columns, ct);
            var columns = candidate.Columns.Select(c => c.Quoted).ToList();
            var top = queries[0];
            recommendations.Add(new IndexRecommendation(
                Id(table, candidate.Columns),
                group[0].Proof,
                table.Schema,
                table.Name,
                candidate.Columns.Select(c => c.Name).ToList(),
                name,
                $"CREATE INDEX CONCURRENTLY {name} ON {table.QuotedSchema}.{table.QuotedName} ({string.Join(", ", columns)})",
                Math.Round(table.Rows),
                table.SizeBytes,
                group.Select(f => f.SizeBytes).FirstOrDefault(s => s is not null),
                top.CostBefore,
                top.CostAfter,
                top.SavingPercent,
                queries)
            {
                Target = new IndexTarget(table.Oid, table.QuotedSchema, table.QuotedName, columns),
            });
        }

        return recommendations.OrderBy(r => r.Proof).ThenByDescending(r => r.Queries.Sum(q => q.TotalMs)).ToList();
    }

    /// <summary>
    /// <c>ix_&lt;table&gt;_&lt;columns&gt;</c> in lower-case letters, digits and underscores (so it never needs quoting),
    /// at most 63 bytes, with a number appended when a relation of that name already exists in the schema.
    /// </summary>
    private async Task<string> FreeIndexNameAsync(CatalogTable table, IReadOnlyList<CatalogColumn> columns, CancellationToken ct)
    {
        var baseName = Sanitize($"ix_{table.Name}_{string.Join('_', columns.Select(c => c.Name))}");
        for (var n = 1; n < 100; n++)
        {
            var suffix = n == 1 ? "" : $"_{n}";
            var name = baseName[..Math.Min(baseName.Length, 63 - suffix.Length)] + suffix;
            if (!await Catalog.RelationExistsAsync(db, table.Schema, name, ct))
            {
                return name;
            }
        }

        return baseName[..Math.Min(baseName.Length, 54)] + "_" + Guid.NewGuid().ToString("N")[..8];
    }

    internal static string Sanitize(string name)
    {
        var text = NotNameCharacter().Replace(name.ToLowerInvariant(), "_");
        text = RepeatedUnderscore().Replace(text, "_").TrimEnd('_');
        return text.Length > 63 ? text[..63].TrimEnd('_') : text;
    }

    /// <summary>Stable for the same table and columns, so a recommendation read earlier can be applied after a new analysis.</summary>
    internal static string Id(CatalogTable table, IReadOnlyList<CatalogColumn> columns)
    {
        var text = $"{table.Schema}\u0001{table.Name}\u0001{string.Join('\u0001', columns.Select(c => c.Name))}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    /// <summary>Whether the hypopg extension is usable, creating it when the server has it; its quoted schema, or why not.</summary>
    private async Task<(string? Schema, string? Unavailable)> EnsureHypoPgAsync(bool create, CancellationToken ct)
    {
        if (await HypoPgSchemaAsync(ct) is { } schema)
        {
            return (schema, null);
        }

        await using (var command = db.CreateCommand("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg')"))
        {
            if (!(bool)(await command.ExecuteScalarAsync(ct))!)
            {
                return (null, "hypopg is not installed on the database server (a managed Postgres may not offer it); index advice is heuristic, not proven");
            }
        }

        if (!create)
        {
            return (null, "hypopg is on the server but not created in this database, and IndexAdvisor:CreateHypoPgExtension is false; index advice is heuristic");
        }

        try
        {
            await using var command = db.CreateCommand("CREATE EXTENSION IF NOT EXISTS hypopg");
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException ex) when (ex.SqlState != PostgresErrorCodes.UniqueViolation)
        {
            // Typically insufficient_privilege: PerfApi's role may not create extensions here.
            return (null, $"hypopg could not be created in this database ({AdvisorErrors.Describe(ex)}); index advice is heuristic");
        }
        catch (PostgresException)
        {
            // Another session created it at the same moment.
        }

        return await HypoPgSchemaAsync(ct) is { } created
            ? (created, null)
            : (null, "hypopg could not be created in this database; index advice is heuristic");
    }

    private async Task<string?> HypoPgSchemaAsync(CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'hypopg'
            """);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    private static bool IsCte(ParsedStatement statement, TableReference table) =>
        table.Schema is null && statement.CommonTableExpressions.Contains(table.Name);

    /// <summary>Whether a plan's filter text names the column (as a whole word, quoted or not).</summary>
    private static bool Mentions(string filter, string column) =>
        Regex.IsMatch(filter, $@"(?<![\w$""]){Regex.Escape(column)}(?![\w$])|""{Regex.Escape(column.Replace("\"", "\"\"", StringComparison.Ordinal))}""", RegexOptions.CultureInvariant);

    private static AnalyzedStatement Outcome(ObservedStatement statement, StatementOutcome outcome, string? detail) =>
        new(statement.Query, statement.Source, statement.Telemetry, statement.Calls, Round(statement.MeanMs), outcome, detail);

    private static double Saving(double before, double after) => before <= 0 ? 0 : (before - after) / before * 100;

    internal static double Round(double value) => Math.Round(value, 2);

    [GeneratedRegex("[^a-z0-9_]", RegexOptions.CultureInvariant)]
    private static partial Regex NotNameCharacter();

    [GeneratedRegex("_{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex RepeatedUnderscore();

    /// <remarks>The SQLSTATE only: the exception's text is PostgreSQL's, which may carry what the planner evaluated.</remarks>
    [LoggerMessage(Level = LogLevel.Warning, Message = "Index analysis skipped a statement that could not be planned ({Code}): {Statement}")]
    private partial void LogStatementSkipped(string code, string statement);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index analysis: {Statements} statements, {Recommendations} recommendations, HypoPG {HypoPg}, {ElapsedMs} ms")]
    private partial void LogAnalysed(int statements, int recommendations, bool hypoPg, double elapsedMs);
}
