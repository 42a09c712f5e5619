using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>An index of a user table as the retirement rules need it.</summary>
/// <param name="Keys">Each key column's definition (a column name or an expression), in order.</param>
/// <param name="Included">INCLUDE columns.</param>
/// <param name="Classes">Operator class, collation and sort option of each key: two keys are the same only if all three are.</param>
internal sealed record IndexUsage(
    uint Oid,
    uint TableOid,
    string Schema,
    string Table,
    string Name,
    string QuotedSchema,
    string QuotedName,
    string Method,
    bool Unique,
    bool Primary,
    bool BacksConstraint,
    bool Valid,
    bool Building,
    IReadOnlyList<string> Keys,
    IReadOnlyList<string> Included,
    IReadOnlyList<(uint OpClass, uint Collation, short Option)> Classes,
    string? Predicate,
    string Definition,
    long SizeBytes,
    long IdxScan,
    long TableInserts,
    long TableUpdates,
    long TableHotUpdates,
    long TableDeletes)
{
    /// <summary>Indexes that enforce something (uniqueness, a primary key, an exclusion or other constraint) are never proposed.</summary>
    public bool Protected => Unique || Primary || BacksConstraint;

    /// <summary>Entries written into each index of the table so far: every insert and every update that is not HOT.</summary>
    public long EntriesWritten => TableInserts + TableUpdates - TableHotUpdates;
}

/// <summary>
/// Indexes to retire: unused over the window (no idx_scan increase, watched that long), duplicates and prefixes
/// of another index, and invalid indexes left by failed concurrent builds. Never a unique or primary-key index, nor
/// one that backs a constraint. Each comes with its <c>DROP INDEX CONCURRENTLY</c> statement and its write cost.
/// </summary>
public sealed class IndexRetirement(NpgsqlDataSource db, AdvisorConnections connections, TimeProvider time)
{
    private IReadOnlyList<PlannedStatement>? _plans;

    /// <summary>Re-plans the application's statements (with each analysis, under its rate limit) for the retirement proof.</summary>
    internal async Task CheckPlansAsync(IndexAdvisorOptions options, CancellationToken ct) =>
        Volatile.Write(ref _plans, await PlanUsage.ReadAsync(db, connections, options, ct));

    private const long EntriesKeyOffset = 1L << 40;

    private UsageHistory? _history;
    private readonly Lock _gate = new();

    /// <summary>Reads idx_scan of every user index and the write counters of every user table into the history.</summary>
    internal async Task SnapshotAsync(IndexAdvisorOptions options, CancellationToken ct)
    {
        var values = new Dictionary<long, long>();
        await using var command = db.CreateCommand("""
            SELECT s.indexrelid, coalesce(s.idx_scan, 0), coalesce(t.n_tup_ins + t.n_tup_upd - t.n_tup_hot_upd, 0)
            FROM pg_stat_user_indexes s
            LEFT JOIN pg_stat_user_tables t ON t.relid = s.relid
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var oid = reader.GetFieldValue<uint>(0);
            values[oid] = reader.GetInt64(1);
            values[EntriesKeyOffset + oid] = reader.GetInt64(2);
        }

        History(options).Record(values, time.GetUtcNow());
    }

    /// <summary>What to retire now, with a fresh reading of the counters.</summary>
    public async Task<IReadOnlyList<RetireAdvice>> EvaluateAsync(IndexAdvisorOptions options, TimeSpan unusedWindow, CancellationToken ct)
    {
        var indexes = await ReadIndexesAsync(ct);
        var now = time.GetUtcNow();
        var history = History(options);
        var values = new Dictionary<long, long>();
        foreach (var index in indexes)
        {
            values[index.Oid] = index.IdxScan;
            values[EntriesKeyOffset + index.Oid] = index.EntriesWritten;
        }

        history.Record(values, now);

        var reasons = indexes.ToDictionary(i => i.Oid, _ => new List<RetireReason>());
        var coveredBy = new Dictionary<uint, string>();
        FindDuplicatesAndPrefixes(indexes, reasons, coveredBy);

        var advice = new List<RetireAdvice>();
        foreach (var index in indexes)
        {
            if (index.Protected || index.Building)
            {
                continue;
            }

            var scans = history.Change(index.Oid, unusedWindow, now);
            var entries = history.Change(EntriesKeyOffset + index.Oid, unusedWindow, now);
            if (!index.Valid)
            {
                reasons[index.Oid].Insert(0, RetireReason.Invalid);
            }
            else if (scans is { Increase: 0 })
            {
                reasons[index.Oid].Insert(0, RetireReason.Unused);
            }

            if (reasons[index.Oid].Count == 0)
            {
                continue;
            }

            // The proof: the application's statements on the table, re-planned. An index a plan reads is kept
            // whatever its counters say; a duplicate or prefix a plan reads cannot be shown unneeded here.
            var proof = RetireProof.NotChecked;
            IReadOnlyList<string> checkedStatements = [];
            IReadOnlyList<string> usedBy = [];
            if (Volatile.Read(ref _plans) is { } plans && index.Valid)
            {
                var onTable = plans.Where(p => p.Tables.Contains(index.Table)).ToList();
                checkedStatements = onTable.Select(p => p.Query).ToList();
                usedBy = onTable.Where(p => p.Indexes.Contains(index.Name)).Select(p => p.Query).ToList();
                if (usedBy.Count > 0)
                {
                    reasons[index.Oid].Remove(RetireReason.Unused);
                    if (reasons[index.Oid].Count == 0)
                    {
                        continue;
                    }
                }

                proof = usedBy.Count > 0 ? RetireProof.NotProven : RetireProof.Proven;
            }
            else if (!index.Valid)
            {
                proof = RetireProof.Proven;
            }

            var observed = scans?.ObservedSeconds ?? 0;
            advice.Add(new RetireAdvice(
                index.Schema,
                index.Table,
                index.Name,
                reasons[index.Oid],
                coveredBy.GetValueOrDefault(index.Oid),
                index.Definition,
                $"DROP INDEX CONCURRENTLY {index.QuotedSchema}.{index.QuotedName}",
                index.SizeBytes,
                index.IdxScan,
                scans?.Increase,
                Math.Round(observed, 1),
                index.TableInserts,
                index.TableUpdates - index.TableHotUpdates,
                index.TableDeletes,
                entries is { ObservedSeconds: > 0 } e ? Math.Round(e.SinceFirstSeen / e.ObservedSeconds * 3600, 1) : null)
            {
                Proof = proof,
                StatementsChecked = checkedStatements,
                UsedBy = usedBy,
                Undo = index.Valid && index.Definition.StartsWith("CREATE INDEX ", StringComparison.Ordinal)
                    ? "CREATE INDEX CONCURRENTLY " + index.Definition["CREATE INDEX ".Length..]
                    : null,
            });
        }

        return advice.OrderBy(a => a.Reasons[0]).ThenByDescending(a => a.SizeBytes).ToList();
    }

    /// <summary>
    /// Exact duplicates (same method, keys, operator classes, collations, sort options, INCLUDE columns and
    /// predicate): all but one are proposed, keeping an enforcing one if any, else the oldest. Prefixes: a B-tree
    /// index without INCLUDE columns whose keys lead another valid B-tree index with the same predicate serves no
    /// lookup the other does not. Protected indexes are never proposed, but do cover others.
    /// </summary>
    internal static void FindDuplicatesAndPrefixes(IReadOnlyList<IndexUsage> indexes, Dictionary<uint, List<RetireReason>> reasons, Dictionary<uint, string> coveredBy)
    {
        var valid = indexes.Where(i => i.Valid && !i.Building).ToList();
        var dropped = new HashSet<uint>();
        foreach (var group in valid.GroupBy(Signature))
        {
            var members = group.OrderByDescending(i => i.Protected).ThenBy(i => i.Oid).ToList();
            foreach (var duplicate in members.Skip(1).Where(i => !i.Protected))
            {
                reasons[duplicate.Oid].Add(RetireReason.Duplicate);
                coveredBy[duplicate.Oid] = members[0].Name;
                dropped.Add(duplicate.Oid);
            }
        }

        foreach (var narrow in valid.Where(i => !i.Protected && !dropped.Contains(i.Oid) && i.Method == "btree" && i.Included.Count == 0))
        {
            var wider = valid
                .Where(w => w.Oid != narrow.Oid && !dropped.Contains(w.Oid) && w.TableOid == narrow.TableOid && w.Method == "btree"
                    && w.Keys.Count > narrow.Keys.Count && w.Predicate == narrow.Predicate
                    && w.Keys.Take(narrow.Keys.Count).SequenceEqual(narrow.Keys)
                    && w.Classes.Take(narrow.Classes.Count).SequenceEqual(narrow.Classes))
                .OrderByDescending(w => w.Protected)
                .ThenBy(w => w.Keys.Count)
                .FirstOrDefault();
            if (wider is not null)
            {
                reasons[narrow.Oid].Add(RetireReason.Prefix);
                coveredBy[narrow.Oid] = wider.Name;
            }
        }
    }

    private static string Signature(IndexUsage index) =>
        string.Join('\u0001', [index.TableOid.ToString(System.Globalization.CultureInfo.InvariantCulture), index.Method, index.Predicate ?? "",
            string.Join('\u0002', index.Keys), string.Join('\u0002', index.Included), string.Join('\u0002', index.Classes)]);

    private UsageHistory History(IndexAdvisorOptions options)
    {
        lock (_gate)
        {
            return _history ??= new UsageHistory(options.UsageSnapshotInterval, options.UnusedWindow + options.UsageSnapshotInterval);
        }
    }

    private async Task<IReadOnlyList<IndexUsage>> ReadIndexesAsync(CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT i.indexrelid, i.indrelid, n.nspname, ct.relname, ci.relname, quote_ident(n.nspname), quote_ident(ci.relname), am.amname,
                   i.indisunique, i.indisprimary, i.indisexclusion OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid),
                   i.indisvalid AND i.indisready,
                   EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid),
                   ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k),
                   ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(i.indnkeyatts + 1, i.indnatts) k),
                   (i.indclass::oid[])[0:i.indnkeyatts - 1], (i.indcollation::oid[])[0:i.indnkeyatts - 1], (i.indoption::int2[])[0:i.indnkeyatts - 1],
                   pg_get_expr(i.indpred, i.indrelid), pg_get_indexdef(i.indexrelid), pg_relation_size(i.indexrelid),
                   coalesce(s.idx_scan, 0), coalesce(t.n_tup_ins, 0), coalesce(t.n_tup_upd, 0), coalesce(t.n_tup_hot_upd, 0), coalesce(t.n_tup_del, 0)
            FROM pg_index i
            JOIN pg_class ci ON ci.oid = i.indexrelid
            JOIN pg_class ct ON ct.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = ct.relnamespace
            JOIN pg_am am ON am.oid = ci.relam
            LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
            LEFT JOIN pg_stat_user_tables t ON t.relid = i.indrelid
            WHERE ct.relkind IN ('r', 'm')
              AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
            """);
        var indexes = new List<IndexUsage>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var classes = reader.GetFieldValue<uint[]>(15);
            var collations = reader.GetFieldValue<uint[]>(16);
            var options = reader.GetFieldValue<short[]>(17);
            indexes.Add(new IndexUsage(
                reader.GetFieldValue<uint>(0),
                reader.GetFieldValue<uint>(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.GetString(6),
                reader.GetString(7),
                reader.GetBoolean(8),
                reader.GetBoolean(9),
                reader.GetBoolean(10),
                reader.GetBoolean(11),
                reader.GetBoolean(12),
                reader.GetFieldValue<string[]>(13),
                reader.GetFieldValue<string[]>(14),
                classes.Select((c, k) => (c, collations[k], options[k])).ToList(),
                reader.IsDBNull(18) ? null : reader.GetString(18),
                reader.GetString(19),
                reader.GetInt64(20),
                reader.GetInt64(21),
                reader.GetInt64(22),
                reader.GetInt64(23),
                reader.GetInt64(24),
                reader.GetInt64(25)));
        }

        return indexes;
    }
}
