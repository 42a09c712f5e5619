using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Recommendations;
using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

public enum ApplicationStatus
{
    Building,
    Succeeded,
    Failed,
}

/// <summary>Calls and mean time of a statement's executions (before the build: all of them; after: those since it).</summary>
public sealed record LatencyFigures(long Calls, double? MeanMs);

/// <summary>How a statement the index serves ran before the build and since (pg_stat_statements' figures).</summary>
/// <param name="After">Executions since the build finished; null until it has.</param>
/// <param name="ChangePercent">(after − before) / before, negative when faster; null until <see cref="IndexAdvisorOptions.MinCallsAfter"/> executions arrived.</param>
public sealed record LatencyChange(string Query, string Source, LatencyFigures? Before, LatencyFigures? After, double? ChangePercent, string? Note);

/// <summary>One application of a recommendation: the build and the latency measured around it.</summary>
/// <param name="Error">Why the build failed, in our words (never PostgreSQL's text); <paramref name="ErrorCode"/> is its SQLSTATE.</param>
/// <param name="Verification">After a successful build: the reads and writes before and since, and the verdict (kept or rolled back).</param>
/// <param name="Self">Where to read it again: the latency after fills in as new executions arrive.</param>
public sealed record ApplicationResponse(
    string Id,
    string RecommendationId,
    ApplicationStatus Status,
    string Schema,
    string Table,
    IReadOnlyList<string> Columns,
    string Index,
    string Statement,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    double? BuildMs,
    double LockTimeoutSeconds,
    string? Error,
    string? ErrorCode,
    string? Cleanup,
    IReadOnlyList<LatencyChange> Latency,
    Verification? Verification,
    string Self);

/// <summary>Why an application could not start.</summary>
public enum ApplyRefusal
{
    None,
    Busy,
    NotFound,
}

/// <summary>
/// Applies a recommendation: <c>CREATE INDEX CONCURRENTLY</c> on a dedicated connection of the indexing role
/// (<see cref="AdvisorConnections.Indexing"/>) outside any transaction,
/// with <c>lock_timeout</c> and <c>statement_timeout</c>, one build at a time. A failed build's INVALID index is
/// dropped with <c>DROP INDEX CONCURRENTLY</c> (which may wait for old transactions, never blocking writes). The
/// statements the index serves are read before the build and when it is ready, so their latency since the build
/// can be compared with their latency before it. The build goes on if the request that started it goes away.
/// </summary>
public sealed partial class IndexApplier(
    IndexAdvisor advisor,
    AdvisorConnections connections,
    NpgsqlDataSource db,
    LatencyProbe probe,
    RollbackRegistry rollbacks,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    IOptionsMonitor<IndexAdvisorOptions> options,
    ILogger<IndexApplier> logger)
{
    /// <summary>The session advisory lock a build holds ("NXIDXBLD").</summary>
    public const long BuildLockKey = 0x4E58_4944_5842_4C44;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _applicationsGate = new();
    private readonly List<Application> _applications = [];

    /// <summary>The application running now, if any.</summary>
    public string? Running
    {
        get
        {
            lock (_applicationsGate)
            {
                return _applications.LastOrDefault(a => a.Status == ApplicationStatus.Building)?.Id;
            }
        }
    }

    /// <summary>
    /// Starts applying the recommendation <paramref name="recommendationId"/> of a fresh analysis. Busy while another
    /// build runs; not found when no recommendation has that id now (an index already covers it, or its statements are gone).
    /// </summary>
    public async Task<(ApplyRefusal Refusal, string? ApplicationId)> StartAsync(string recommendationId, TimeSpan lockTimeout, CancellationToken ct)
    {
        if (!await _gate.WaitAsync(0, ct))
        {
            return (ApplyRefusal.Busy, Running);
        }

        var started = false;
        NpgsqlConnection? connection = null;
        try
        {
            // The build's own session, holding an advisory lock for the whole build: one build at a time even
            // across PerfApi instances (the lock ends with the session, however the build ends).
            connection = await connections.Indexing.OpenConnectionAsync(ct);
            await using (var lockCommand = connection.CreateCommand())
            {
                lockCommand.CommandText = "SELECT pg_try_advisory_lock($1)";
                lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = BuildLockKey });
                if (await lockCommand.ExecuteScalarAsync(ct) is not true)
                {
                    return (ApplyRefusal.Busy, null);
                }
            }

            // A fresh analysis, or the latest when one ended less than MinRefreshInterval ago (fresh enough to
            // check the id against; after a build the cache is forgotten, so a new one runs).
            var analysis = (await advisor.AnalysisAsync(refresh: true, ct)).Analysis;
            var recommendation = analysis.Recommendations.FirstOrDefault(r => r.Id == recommendationId);
            if (recommendation is null)
            {
                return (ApplyRefusal.NotFound, null);
            }

            var before = new List<LatencyReading?>();
            foreach (var query in recommendation.Queries)
            {
                before.Add(await probe.ReadAsync(query, ct));
            }

            var writes = await probe.ReadWritesAsync(recommendation.Schema, recommendation.Table, ct);
            var application = new Application(Guid.NewGuid().ToString("N")[..16], recommendation, lockTimeout, time.GetUtcNow(), before, writes);
            Remember(application);
            var session = connection;
            application.Completion = Task.Run(() => BuildAsync(application, session), CancellationToken.None);
            started = true;
            return (ApplyRefusal.None, application.Id);
        }
        finally
        {
            if (!started)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }

                _gate.Release();
            }
        }
    }

    /// <summary>Waits up to <paramref name="wait"/> for the build to end; true when it has.</summary>
    public async Task<bool> WaitAsync(string applicationId, TimeSpan wait, CancellationToken ct)
    {
        if (Find(applicationId) is not { } application)
        {
            return false;
        }

        try
        {
            await application.Completion.WaitAsync(wait, time, ct);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The application as it stands, with the latency since the build read now; null when unknown.</summary>
    public async Task<ApplicationResponse?> ReadAsync(string applicationId, CancellationToken ct)
    {
        if (Find(applicationId) is not { } application)
        {
            return null;
        }

        var minCalls = options.CurrentValue.MinCallsAfter;
        var changes = new List<LatencyChange>();
        var recommendation = application.Recommendation;
        for (var i = 0; i < recommendation.Queries.Count; i++)
        {
            var query = recommendation.Queries[i];
            var before = application.Before[i];
            var ready = application.Ready?[i];
            LatencyFigures? after = null;
            double? change = null;
            string? note;
            if (application.Status == ApplicationStatus.Building)
            {
                note = "the index is being built";
            }
            else if (application.Status == ApplicationStatus.Failed)
            {
                note = "the build failed: nothing changed";
            }
            else if (ready is null || await probe.ReadAsync(query, ct) is not { } now)
            {
                note = "the statement is no longer in its source's statistics";
            }
            else if (now.Calls < ready.Calls)
            {
                note = "the statistics were reset since the build: the executions after it cannot be told apart";
            }
            else
            {
                var calls = now.Calls - ready.Calls;
                after = new LatencyFigures(calls, calls > 0 ? IndexAnalyzer.Round((now.TotalMs - ready.TotalMs) / calls) : null);
                if (calls >= minCalls && before?.MeanMs is { } meanBefore && meanBefore > 0 && after.MeanMs is { } meanAfter)
                {
                    change = IndexAnalyzer.Round((meanAfter - meanBefore) / meanBefore * 100);
                    note = null;
                }
                else
                {
                    note = $"waiting for {minCalls} executions since the build ({calls} so far)";
                }
            }

            changes.Add(new LatencyChange(
                query.Query, query.Source,
                before is null ? null : new LatencyFigures(before.Calls, before.MeanMs is { } m ? IndexAnalyzer.Round(m) : null),
                after, change, note));
        }

        lock (application.Gate)
        {
            return new ApplicationResponse(
                application.Id,
                recommendation.Id,
                application.Status,
                recommendation.Schema,
                recommendation.Table,
                recommendation.Columns,
                application.IndexName,
                application.Statement,
                application.StartedAt,
                application.FinishedAt,
                application.BuildMs,
                application.LockTimeout.TotalSeconds,
                application.Error,
                application.ErrorCode,
                application.Cleanup,
                changes,
                application.Verification,
                $"/{FastEndpointsDefaults.RoutePrefix}/performance/indexes/applications/{application.Id}");
        }
    }

    private async Task BuildAsync(Application application, NpgsqlConnection connection)
    {
        await using var session = connection;
        var stopping = lifetime.ApplicationStopping;
        var settings = options.CurrentValue;
        var target = application.Recommendation.Target;
        var started = Stopwatch.GetTimestamp();
        try
        {
            // The name was free at the analysis; take the next one if it no longer is.
            var name = application.Recommendation.IndexName;
            for (var n = 2; await Catalog.RelationExistsAsync(db, application.Recommendation.Schema, name, stopping); n++)
            {
                name = $"{application.Recommendation.IndexName[..Math.Min(application.Recommendation.IndexName.Length, 59)]}_{n}";
            }

            application.Name(name, $"CREATE INDEX CONCURRENTLY {name} ON {target.QuotedSchema}.{target.QuotedTable} ({string.Join(", ", target.QuotedColumns)})");
            LogBuildStarted(application.Statement, application.Id);

            await SetTimeoutsAsync(connection, application.LockTimeout, settings.BuildTimeout, stopping);
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = application.Statement;
                await command.ExecuteNonQueryAsync(stopping);
            }

            var ready = new List<LatencyReading?>();
            foreach (var query in application.Recommendation.Queries)
            {
                ready.Add(await ReadOrNullAsync(query, stopping));
            }

            var writesReady = await probe.ReadWritesAsync(application.Recommendation.Schema, application.Recommendation.Table, stopping);
            var finished = time.GetUtcNow();
            application.Succeed(ready, writesReady, finished, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            application.Verify(Watching(application, null, null, finished + settings.VerifyWindow, settings));
            LogBuildSucceeded(application.IndexName, application.Id, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            application.Verifying = Task.Run(() => VerifyAsync(application), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var error = AdvisorErrors.Describe(ex);
            application.Fail(error.Code, error.Message, time.GetUtcNow(), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            LogBuildFailed(error.Code, application.IndexName, application.Id);
            application.SetCleanup(await CleanUpAsync(application, settings));
        }
        finally
        {
            advisor.Invalidate();
            _gate.Release();
        }
    }

    /// <summary>
    /// Drops the INVALID index a failed concurrent build leaves behind (only one of this build's name, on this
    /// table, and invalid). <c>DROP INDEX CONCURRENTLY</c> waits for transactions using the table without blocking
    /// writes, so it runs without a lock timeout, bounded by <see cref="IndexAdvisorOptions.CleanupTimeout"/>.
    /// </summary>
    private async Task<string> CleanUpAsync(Application application, IndexAdvisorOptions settings)
    {
        var target = application.Recommendation.Target;
        using var timeout = new CancellationTokenSource(settings.CleanupTimeout + TimeSpan.FromSeconds(5));
        try
        {
            await using var connection = await connections.Indexing.OpenConnectionAsync(timeout.Token);
            await using (var check = connection.CreateCommand())
            {
                check.CommandText = """
                    SELECT NOT i.indisvalid
                    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE i.indrelid = $1 AND c.relname = $2
                    """;
                check.Parameters.Add(new NpgsqlParameter<uint> { TypedValue = target.TableOid, DataTypeName = "oid" });
                check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = application.IndexName });
                if (await check.ExecuteScalarAsync(timeout.Token) is not true)
                {
                    return "nothing to clean up: the failed build left no invalid index";
                }
            }

            await SetTimeoutsAsync(connection, TimeSpan.Zero, settings.CleanupTimeout, timeout.Token);
            var drop = $"DROP INDEX CONCURRENTLY IF EXISTS {target.QuotedSchema}.{application.IndexName}";
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = drop;
                await command.ExecuteNonQueryAsync(timeout.Token);
            }

            LogCleanedUp(application.IndexName, application.Id);
            return $"dropped the invalid index the failed build left: {drop}";
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            var error = AdvisorErrors.Describe(ex);
            LogCleanupFailed(error.Code, application.IndexName, application.Id);
            return $"the invalid index {application.IndexName} could not be dropped ({error}); run DROP INDEX CONCURRENTLY IF EXISTS {target.QuotedSchema}.{application.IndexName} (it is listed under retire meanwhile)";
        }
    }

    /// <summary>
    /// Watches the statements the index was built for and the table's writes after the build, every
    /// <see cref="IndexAdvisorOptions.VerifyPollInterval"/>, until they ran <see cref="IndexAdvisorOptions.VerifyExecutions"/>
    /// times or <see cref="IndexAdvisorOptions.VerifyWindow"/> ended; then gives the verdict (<see cref="VerificationRule"/>).
    /// An index judged against is dropped with <c>DROP INDEX CONCURRENTLY</c> (unless <see cref="IndexAdvisorOptions.VerifyReportOnly"/>)
    /// and quarantined so that the next analyses do not propose it again.
    /// </summary>
    private async Task VerifyAsync(Application application)
    {
        var stopping = lifetime.ApplicationStopping;
        var settings = options.CurrentValue;
        var deadline = application.Verification!.Deadline;
        var recommendation = application.Recommendation;
        try
        {
            while (true)
            {
                await Task.Delay(settings.VerifyPollInterval, time, stopping);
                Verification watching;
                try
                {
                    var now = new List<LatencyReading?>();
                    foreach (var query in recommendation.Queries)
                    {
                        now.Add(await probe.ReadAsync(query, stopping));
                    }

                    var writesNow = await probe.ReadWritesAsync(recommendation.Schema, recommendation.Table, stopping);
                    watching = Watching(application, now, writesNow, deadline, settings);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    // The database busy or restarting: the last evidence stands, and the next poll tries again.
                    watching = application.Verification!;
                    if (time.GetUtcNow() < deadline)
                    {
                        continue;
                    }
                }

                if (time.GetUtcNow() < deadline && !VerificationRule.Enough(watching.Reads, watching.Writes, settings.VerifyExecutions))
                {
                    application.Verify(watching);
                    continue;
                }

                var (verdict, reason) = VerificationRule.Decide(watching.Reads, watching.Writes, settings);
                string? rollback = null;
                DateTimeOffset? until = null;
                if (verdict is VerificationVerdict.RolledBack or VerificationVerdict.WouldRollBack)
                {
                    rollback = $"DROP INDEX CONCURRENTLY IF EXISTS {recommendation.Target.QuotedSchema}.{application.IndexName}";
                    until = time.GetUtcNow() + settings.RollbackQuarantine;
                    rollbacks.Quarantine(recommendation.Id, until.Value, $"index {application.IndexName} did not pay when applied ({reason})");
                    if (verdict == VerificationVerdict.RolledBack && !await DropAsync(application, rollback, settings))
                    {
                        verdict = VerificationVerdict.RollbackFailed;
                    }

                    advisor.Invalidate();
                }

                application.Verify(watching with { Verdict = verdict, Reason = reason, DecidedAt = time.GetUtcNow(), Rollback = rollback, NotProposedUntil = until });
                LogVerdict(application.IndexName, application.Id, verdict);
                return;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // PerfApi is stopping: the verification ends undecided, and the index stays.
        }
    }

    /// <summary>The evidence so far: reads and writes since the build (none yet when <paramref name="now"/> is null) against before it.</summary>
    private static Verification Watching(
        Application application, IReadOnlyList<LatencyReading?>? now, IReadOnlyDictionary<string, LatencyReading>? writesNow, DateTimeOffset deadline, IndexAdvisorOptions settings)
    {
        var queries = application.Recommendation.Queries;
        var served = queries.Select(q => q.Query).ToHashSet(StringComparer.Ordinal);
        var readsBefore = Sum(application.Before);
        var readsAfter = new LatencyReading(0, 0);
        for (var i = 0; now is not null && i < queries.Count; i++)
        {
            if (application.Ready?[i] is { } ready && now[i] is { } current && current.Calls >= ready.Calls)
            {
                readsAfter = new LatencyReading(readsAfter.Calls + current.Calls - ready.Calls, readsAfter.TotalMs + current.TotalMs - ready.TotalMs);
            }
        }

        var writesBefore = Sum(application.WritesBefore.Where(w => !served.Contains(w.Key)).Select(w => (LatencyReading?)w.Value));
        var writesAfter = new LatencyReading(0, 0);
        var statements = application.WritesBefore.Keys.Where(k => !served.Contains(k)).ToHashSet(StringComparer.Ordinal);
        foreach (var (query, current) in writesNow ?? new Dictionary<string, LatencyReading>())
        {
            if (served.Contains(query))
            {
                continue;
            }

            statements.Add(query);
            var ready = application.WritesReady?.GetValueOrDefault(query);
            if (ready is null || current.Calls >= ready.Calls)
            {
                writesAfter = new LatencyReading(
                    writesAfter.Calls + current.Calls - (ready?.Calls ?? 0), writesAfter.TotalMs + current.TotalMs - (ready?.TotalMs ?? 0));
            }
        }

        return new Verification(
            VerificationVerdict.Verifying,
            "watching the statements it serves and the table's writes since the build",
            deadline,
            null,
            VerificationFigures.From(readsBefore, readsAfter),
            VerificationFigures.From(writesBefore, writesAfter),
            statements.Order(StringComparer.Ordinal).Take(20).ToList(),
            settings.MinReadImprovementPercent,
            settings.MaxWriteSlowdownPercent,
            null,
            null);

        static LatencyReading Sum(IEnumerable<LatencyReading?> readings) =>
            readings.Aggregate(new LatencyReading(0, 0), (sum, r) => r is null ? sum : new LatencyReading(sum.Calls + r.Calls, sum.TotalMs + r.TotalMs));
    }

    /// <summary>Drops an index the verification judged against; it waits for transactions using the table, blocking no writes.</summary>
    private async Task<bool> DropAsync(Application application, string drop, IndexAdvisorOptions settings)
    {
        using var timeout = new CancellationTokenSource(settings.CleanupTimeout + TimeSpan.FromSeconds(5));
        try
        {
            await using var connection = await connections.Indexing.OpenConnectionAsync(timeout.Token);
            await SetTimeoutsAsync(connection, TimeSpan.Zero, settings.CleanupTimeout, timeout.Token);
            await using var command = connection.CreateCommand();
            command.CommandText = drop;
            await command.ExecuteNonQueryAsync(timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            LogRollbackFailed(AdvisorErrors.Describe(ex).Code, application.IndexName, application.Id);
            return false;
        }
    }

    /// <summary>A reading that failed (the database busy right after a build) only leaves that statement's "after" unknown.</summary>
    private async Task<LatencyReading?> ReadOrNullAsync(IndexQueryEvidence query, CancellationToken ct)
    {
        try
        {
            return await probe.ReadAsync(query, ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Session timeouts; zero means none. Values go through set_config as parameters.</summary>
    private static async Task SetTimeoutsAsync(NpgsqlConnection connection, TimeSpan lockTimeout, TimeSpan statementTimeout, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)";
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(lockTimeout) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(statementTimeout) });
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string Milliseconds(TimeSpan span) => ((long)Math.Ceiling(span.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    private Application? Find(string id)
    {
        lock (_applicationsGate)
        {
            return _applications.FirstOrDefault(a => a.Id == id);
        }
    }

    private void Remember(Application application)
    {
        lock (_applicationsGate)
        {
            _applications.Add(application);
            while (_applications.Count > options.CurrentValue.MaxApplications && _applications.FirstOrDefault(a => a.Status != ApplicationStatus.Building) is { } oldest)
            {
                _applications.Remove(oldest);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying index recommendation {ApplicationId}: {Statement}")]
    private partial void LogBuildStarted(string statement, string applicationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index} built for application {ApplicationId} in {ElapsedMs} ms")]
    private partial void LogBuildSucceeded(string index, string applicationId, double elapsedMs);

    /// <remarks>The SQLSTATE, not the exception: its text is PostgreSQL's.</remarks>
    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index} of application {ApplicationId} could not be built ({Code})")]
    private partial void LogBuildFailed(string code, string index, string applicationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Verified index {Index} of application {ApplicationId}: {Verdict}")]
    private partial void LogVerdict(string index, string applicationId, VerificationVerdict verdict);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not roll back index {Index} of application {ApplicationId} ({Code})")]
    private partial void LogRollbackFailed(string code, string index, string applicationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped the invalid index {Index} left by application {ApplicationId}")]
    private partial void LogCleanedUp(string index, string applicationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not drop the invalid index {Index} left by application {ApplicationId} ({Code})")]
    private partial void LogCleanupFailed(string code, string index, string applicationId);

    /// <summary>The mutable state of one application, read under <see cref="Gate"/>.</summary>
    private sealed class Application(
        string id, IndexRecommendation recommendation, TimeSpan lockTimeout, DateTimeOffset startedAt, IReadOnlyList<LatencyReading?> before,
        IReadOnlyDictionary<string, LatencyReading> writesBefore)
    {
        public Lock Gate { get; } = new();

        public string Id { get; } = id;

        public IndexRecommendation Recommendation { get; } = recommendation;

        public TimeSpan LockTimeout { get; } = lockTimeout;

        public DateTimeOffset StartedAt { get; } = startedAt;

        public IReadOnlyList<LatencyReading?> Before { get; } = before;

        /// <summary>The table's write statements, cumulative, when the apply started.</summary>
        public IReadOnlyDictionary<string, LatencyReading> WritesBefore { get; } = writesBefore;

        public IReadOnlyDictionary<string, LatencyReading>? WritesReady { get; private set; }

        public Task Verifying { get; set; } = Task.CompletedTask;

        public Verification? Verification { get; private set; }

        public Task Completion { get; set; } = Task.CompletedTask;

        public string IndexName { get; private set; } = recommendation.IndexName;

        public string Statement { get; private set; } = recommendation.Statement;

        public ApplicationStatus Status { get; private set; } = ApplicationStatus.Building;

        public IReadOnlyList<LatencyReading?>? Ready { get; private set; }

        public DateTimeOffset? FinishedAt { get; private set; }

        public double? BuildMs { get; private set; }

        public string? Error { get; private set; }

        public string? ErrorCode { get; private set; }

        public string? Cleanup { get; private set; }

        public void Name(string name, string statement)
        {
            lock (Gate)
            {
                IndexName = name;
                Statement = statement;
            }
        }

        public void Verify(Verification verification)
        {
            lock (Gate)
            {
                Verification = verification;
            }
        }

        public void Succeed(IReadOnlyList<LatencyReading?> ready, IReadOnlyDictionary<string, LatencyReading> writesReady, DateTimeOffset at, double ms)
        {
            lock (Gate)
            {
                Ready = ready;
                WritesReady = writesReady;
                FinishedAt = at;
                BuildMs = Math.Round(ms, 1);
                Status = ApplicationStatus.Succeeded;
            }
        }

        public void Fail(string code, string message, DateTimeOffset at, double ms)
        {
            lock (Gate)
            {
                ErrorCode = code;
                Error = message;
                FinishedAt = at;
                BuildMs = Math.Round(ms, 1);
            }
        }

        /// <summary>Failed only once the cleanup is done, so a reader never sees a failure with an invalid index still there.</summary>
        public void SetCleanup(string cleanup)
        {
            lock (Gate)
            {
                Cleanup = cleanup;
                Status = ApplicationStatus.Failed;
            }
        }
    }
}
