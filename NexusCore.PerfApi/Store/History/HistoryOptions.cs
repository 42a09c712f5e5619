using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Store.History;

/// <summary>
/// How minute roll-ups are persisted in <c>perf.query_minutes</c> (section <c>History</c>): how often and how late
/// they are written, in what batches, how much waits in memory while Postgres is away, when closed hours are compacted
/// into <c>perf.query_hours</c>, and how long rows are kept.
/// </summary>
public sealed class HistoryOptions
{
    public const string Section = "History";

    /// <summary>Rows older than this (hours, and any minute left) are deleted in the background.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// How long minutes stay minutes: an hour that ended at least this long ago is compacted (its minutes replaced by
    /// one row per key in <c>perf.query_hours</c>). At least <see cref="HistoryRollupReader.MinuteGrainUpTo"/>, so a
    /// range read per minute never meets an hour row; each minute kept longer is a row every long read merges.
    /// </summary>
    public TimeSpan MinuteRetention { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How often the compactor looks for hours to compact (the first time at start).</summary>
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Hours one compaction pass compacts at most (each its own transaction); the rest wait for the next pass.</summary>
    public int CompactionHoursPerPass { get; set; } = 24;

    /// <summary>How often closed minutes are taken from memory and written.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after a minute ends it is still left open for late exports (an exporter's interval, a retry) before
    /// it is written; what arrives for it later stays in memory only.
    /// </summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Rows per write (one binary COPY, one round trip).</summary>
    public int MaxBatchRows { get; set; } = 1000;

    /// <summary>
    /// Rows waiting to be written while Postgres does not answer; beyond it the oldest are dropped and counted.
    /// A row holds at most 320 buckets (2.6 KB), so the default bounds the backlog at about 60 MB (a few MB typically).
    /// </summary>
    public int MaxBacklogRows { get; set; } = 20_000;

    /// <summary>The longest wait between two tries while writes fail (the first wait is <see cref="FlushInterval"/>, doubling).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often rows older than <see cref="Retention"/> are deleted (the first time at start).</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows one retention DELETE removes; a sweep repeats it until nothing old is left.</summary>
    public int RetentionBatchRows { get; set; } = 5000;
}

/// <summary>Rejects settings that would never write, write unboundedly or keep nothing, at start.</summary>
internal sealed class HistoryOptionsValidator : IValidateOptions<HistoryOptions>
{
    public ValidateOptionsResult Validate(string? name, HistoryOptions options)
    {
        var failures = new List<string>();
        if (options.Retention < TimeSpan.FromHours(1) || options.Retention > TimeSpan.FromDays(400))
        {
            failures.Add("History:Retention must be from 1 hour to 400 days.");
        }

        if (options.MinuteRetention < HistoryRollupReader.MinuteGrainUpTo || options.MinuteRetention > TimeSpan.FromDays(400))
        {
            failures.Add("History:MinuteRetention must be from 2 hours to 400 days.");
        }
        else if (failures.Count == 0 && options.MinuteRetention > options.Retention)
        {
            // Minutes older than Retention are deleted, not compacted: a longer MinuteRetention would never compact.
            failures.Add("History:MinuteRetention must be at most History:Retention.");
        }

        if (options.CompactionInterval < TimeSpan.FromSeconds(10) || options.CompactionInterval > TimeSpan.FromHours(1))
        {
            failures.Add("History:CompactionInterval must be from 10 seconds to 1 hour.");
        }

        if (options.CompactionHoursPerPass is < 1 or > 24 * 400)
        {
            failures.Add("History:CompactionHoursPerPass must be from 1 to 9600.");
        }

        if (options.FlushInterval < TimeSpan.FromSeconds(1) || options.FlushInterval > TimeSpan.FromMinutes(5))
        {
            failures.Add("History:FlushInterval must be from 1 second to 5 minutes.");
        }

        if (options.Grace < TimeSpan.Zero || options.Grace > TimeSpan.FromMinutes(10))
        {
            failures.Add("History:Grace must be from 0 to 10 minutes.");
        }

        if (options.MaxBatchRows is < 1 or > 10_000)
        {
            failures.Add("History:MaxBatchRows must be from 1 to 10000.");
        }

        if (options.MaxBacklogRows < options.MaxBatchRows || options.MaxBacklogRows > 1_000_000)
        {
            failures.Add("History:MaxBacklogRows must be at least History:MaxBatchRows and at most 1000000.");
        }

        if (options.MaxRetryDelay < options.FlushInterval || options.MaxRetryDelay > TimeSpan.FromHours(1))
        {
            failures.Add("History:MaxRetryDelay must be from History:FlushInterval to 1 hour.");
        }

        if (options.RetentionInterval < TimeSpan.FromMinutes(1) || options.RetentionInterval > TimeSpan.FromDays(1))
        {
            failures.Add("History:RetentionInterval must be from 1 minute to 1 day.");
        }

        if (options.RetentionBatchRows is < 1 or > 100_000)
        {
            failures.Add("History:RetentionBatchRows must be from 1 to 100000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
