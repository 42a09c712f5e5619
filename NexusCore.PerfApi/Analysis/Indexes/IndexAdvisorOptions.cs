using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>
/// Section <c>IndexAdvisor</c>: which statements are looked at, which tables are worth an index, when a
/// hypothetical index counts as proven, and the bounds of planning, building and watching index usage.
/// </summary>
public sealed class IndexAdvisorOptions
{
    public const string Section = "IndexAdvisor";

    /// <summary>ClientsApi's role: the only one whose statements are analysed unless <see cref="ApplicationRoles"/> says otherwise.</summary>
    public const string DefaultApplicationRole = "nexuscore_clients_api";

    public const int MaxApplicationRoles = 20;

    /// <summary>
    /// The database roles whose pg_stat_statements rows are analysed (default <see cref="DefaultApplicationRole"/>);
    /// a role that does not exist matches nothing. Null when not configured: a configured list replaces the
    /// default rather than adding to it (the configuration binder appends to a list that has items).
    /// </summary>
    public string[]? ApplicationRoles { get; set; }

    /// <summary>The roles in force: <see cref="ApplicationRoles"/>, or the default when none is configured.</summary>
    public IReadOnlyList<string> Roles => ApplicationRoles is { Length: > 0 } roles ? roles : [DefaultApplicationRole];

    /// <summary>A candidate index is kept when it cuts a statement's planner cost by at least this share.</summary>
    public double MinCostSavingPercent { get; set; } = 50;

    /// <summary>Tables with fewer rows than this are left alone: a sequential scan of them is cheap.</summary>
    public long MinTableRows { get; set; } = 10_000;

    /// <summary>Tables smaller than this (heap and TOAST, in MB of 2^20 bytes) are left alone too.</summary>
    public double MinTableSizeMb { get; set; } = 8;

    /// <summary>A statement needs this many calls to be looked at, unless its mean reaches SLOW_QUERY_THRESHOLD.</summary>
    public long MinCalls { get; set; } = 5;

    /// <summary>Statements faster than this on average are not worth an index (ms).</summary>
    public double MinMeanMs { get; set; } = 1;

    /// <summary>At most this many statements (the busiest by total time) are planned per analysis.</summary>
    public int MaxStatements { get; set; } = 50;

    /// <summary>At most this many candidate indexes are planned per statement.</summary>
    public int MaxCandidatesPerStatement { get; set; } = 12;

    /// <summary>How far back PerfApi's statement telemetry is read to match the analysed statements (evidence only: it is never planned).</summary>
    public TimeSpan TelemetryWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest one planning step (PREPARE, EXPLAIN, a hypothetical index) may take.</summary>
    public TimeSpan PlanStatementTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Planning never waits longer than this for a table lock (someone altering the table).</summary>
    public TimeSpan PlanLockTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest a whole analysis may take; statements not reached by then are reported as such.</summary>
    public TimeSpan AnalysisTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An analysis is reused for this long by the recommendations and by reads without <c>refresh=true</c>.</summary>
    public TimeSpan AnalysisCacheDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// No read (<c>refresh=true</c> included) starts an analysis sooner than this after the previous one ended; it
    /// gets the latest analysis instead. Only the first analysis after an index was built or dropped may start sooner.
    /// </summary>
    public TimeSpan MinRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Prove candidates with HypoPG when the database has it; false gives heuristic advice only.</summary>
    public bool UseHypoPg { get; set; } = true;

    /// <summary>Run <c>CREATE EXTENSION IF NOT EXISTS hypopg</c> when the server has it but the database does not.</summary>
    public bool CreateHypoPgExtension { get; set; } = true;

    /// <summary>An index with no scans over this window (watched for at least as long) is proposed for retirement.</summary>
    public TimeSpan UnusedWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often <c>pg_stat_user_indexes</c> and <c>pg_stat_user_tables</c> are read to watch usage.</summary>
    public TimeSpan UsageSnapshotInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary><c>lock_timeout</c> of <c>CREATE INDEX CONCURRENTLY</c> when applying (a request may ask for another).</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>statement_timeout</c> of an index build.</summary>
    public TimeSpan BuildTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>An apply request waits this long for its build before answering 202 with the application to poll.</summary>
    public TimeSpan ApplyWait { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest the <c>DROP INDEX CONCURRENTLY</c> of an invalid index left by a failed build may take.</summary>
    public TimeSpan CleanupTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many applications (builds and their latency figures) are kept to read back.</summary>
    public int MaxApplications { get; set; } = 50;

    /// <summary>Executions after the build an application needs before it reports a latency change.</summary>
    public long MinCallsAfter { get; set; } = 3;

    /// <summary>
    /// The longest an applied index is watched before its verdict: the verdict comes sooner once the statements it
    /// serves (and the table's writes, if it had any) ran <see cref="VerifyExecutions"/> times since the build.
    /// </summary>
    public TimeSpan VerifyWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Executions since the build, of the served statements and of the table's writes, that end the verification early.</summary>
    public long VerifyExecutions { get; set; } = 200;

    /// <summary>How often pg_stat_statements is read while an applied index is verified.</summary>
    public TimeSpan VerifyPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An applied index is kept only if the statements it serves got at least this much faster (calls-weighted mean).</summary>
    public double MinReadImprovementPercent { get; set; } = 20;

    /// <summary>An applied index is rolled back when the table's writes got slower than this (calls-weighted mean).</summary>
    public double MaxWriteSlowdownPercent { get; set; } = 20;

    /// <summary>When true, a failed verification is reported (<c>wouldRollBack</c>) and the index left in place.</summary>
    public bool VerifyReportOnly { get; set; }

    /// <summary>How long an index that was rolled back (or would have been) is not proposed again.</summary>
    public TimeSpan RollbackQuarantine { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The current window a statement's mean is measured over for regressions.</summary>
    public TimeSpan RegressionWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The baseline: the window just before <see cref="RegressionWindow"/>.</summary>
    public TimeSpan RegressionBaseline { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A statement whose current mean exceeds its baseline's by more than this is a regression.</summary>
    public double RegressionThresholdPercent { get; set; } = 50;

    /// <summary>Executions a statement needs in each of the two windows to be judged.</summary>
    public long RegressionMinCalls { get; set; } = 20;
}

internal sealed class IndexAdvisorOptionsValidator : IValidateOptions<IndexAdvisorOptions>
{
    public ValidateOptionsResult Validate(string? name, IndexAdvisorOptions options)
    {
        var failures = new List<string>();
        Check(options.MinCostSavingPercent is > 0 and < 100, "MinCostSavingPercent must be greater than 0 and less than 100.");
        Check(options.MinTableRows >= 0, "MinTableRows must be 0 or more.");
        Check(options.MinTableSizeMb is >= 0 and <= 1_048_576, "MinTableSizeMb must be from 0 to 1048576.");
        Check(options.MinCalls >= 1, "MinCalls must be at least 1.");
        Check(options.MinMeanMs is >= 0 and <= 86_400_000, "MinMeanMs must be from 0 to 86400000.");
        Check(options.MaxStatements is >= 1 and <= 1000, "MaxStatements must be from 1 to 1000.");
        Check(options.MaxCandidatesPerStatement is >= 1 and <= 100, "MaxCandidatesPerStatement must be from 1 to 100.");
        Check(options.TelemetryWindow > TimeSpan.Zero, "TelemetryWindow must be positive.");
        Check(Between(options.PlanStatementTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1)), "PlanStatementTimeout must be from 10 ms to 1 min.");
        Check(Between(options.PlanLockTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1)), "PlanLockTimeout must be from 10 ms to 1 min.");
        Check(Between(options.AnalysisTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)), "AnalysisTimeout must be from 1 s to 10 min.");
        Check(Between(options.AnalysisCacheDuration, TimeSpan.Zero, TimeSpan.FromHours(1)), "AnalysisCacheDuration must be from 0 to 1 h.");
        Check(Between(options.MinRefreshInterval, TimeSpan.Zero, TimeSpan.FromHours(1)), "MinRefreshInterval must be from 0 to 1 h.");
        Check(options.ApplicationRoles is null || (options.ApplicationRoles.Length <= IndexAdvisorOptions.MaxApplicationRoles
                && options.ApplicationRoles.All(r => r is { Length: >= 1 and <= 63 })),
            $"ApplicationRoles must hold at most {IndexAdvisorOptions.MaxApplicationRoles} role names of 1 to 63 characters.");
        Check(Between(options.UnusedWindow, TimeSpan.FromSeconds(1), TimeSpan.FromDays(31)), "UnusedWindow must be from 1 s to 31 days.");
        Check(Between(options.UsageSnapshotInterval, TimeSpan.FromSeconds(1), options.UnusedWindow), "UsageSnapshotInterval must be from 1 s to UnusedWindow.");
        Check(Between(options.LockTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10)), "LockTimeout must be from 10 ms to 10 min.");
        Check(Between(options.BuildTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)), "BuildTimeout must be from 1 s to 1 day.");
        Check(Between(options.ApplyWait, TimeSpan.Zero, TimeSpan.FromMinutes(5)), "ApplyWait must be from 0 to 5 min.");
        Check(Between(options.CleanupTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)), "CleanupTimeout must be from 1 s to 1 h.");
        Check(options.MaxApplications is >= 1 and <= 10_000, "MaxApplications must be from 1 to 10000.");
        Check(options.MinCallsAfter >= 1, "MinCallsAfter must be at least 1.");
        Check(Between(options.VerifyWindow, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)), "VerifyWindow must be from 1 s to 1 day.");
        Check(options.VerifyExecutions is >= 1 and <= 100_000_000, "VerifyExecutions must be from 1 to 100000000.");
        Check(Between(options.VerifyPollInterval, TimeSpan.FromMilliseconds(100), options.VerifyWindow), "VerifyPollInterval must be from 100 ms to VerifyWindow.");
        Check(options.MinReadImprovementPercent is >= 0 and < 100, "MinReadImprovementPercent must be from 0 to less than 100.");
        Check(options.MaxWriteSlowdownPercent is >= 0 and <= 10_000, "MaxWriteSlowdownPercent must be from 0 to 10000.");
        Check(Between(options.RegressionWindow, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)), "RegressionWindow must be from 1 s to 1 day.");
        Check(Between(options.RegressionBaseline, TimeSpan.FromSeconds(1), TimeSpan.FromDays(7)), "RegressionBaseline must be from 1 s to 7 days.");
        Check(options.RegressionThresholdPercent is > 0 and <= 10_000, "RegressionThresholdPercent must be greater than 0 and at most 10000.");
        Check(options.RegressionMinCalls >= 1, "RegressionMinCalls must be at least 1.");
        Check(Between(options.RollbackQuarantine, TimeSpan.Zero, TimeSpan.FromDays(365)), "RollbackQuarantine must be from 0 to 365 days.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(bool valid, string message)
        {
            if (!valid)
            {
                failures.Add($"{IndexAdvisorOptions.Section}:{message}");
            }
        }
    }

    private static bool Between(TimeSpan value, TimeSpan min, TimeSpan max) => value >= min && value <= max;
}
