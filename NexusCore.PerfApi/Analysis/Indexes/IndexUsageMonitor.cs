using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>
/// Snapshots index usage (idx_scan) and table writes when PerfApi starts and every
/// <see cref="IndexAdvisorOptions.UsageSnapshotInterval"/>, so that "no scans over the window" can be told.
/// </summary>
internal sealed partial class IndexUsageMonitor(
    IndexRetirement retirement,
    RegressionWatch regressions,
    TimeProvider time,
    IOptions<IndexAdvisorOptions> options,
    ILogger<IndexUsageMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.UsageSnapshotInterval, time);
        try
        {
            do
            {
                try
                {
                    await retirement.SnapshotAsync(options.Value, stoppingToken);
                    await regressions.SnapshotAsync(options.Value, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && ex is not OutOfMemoryException)
                {
                    // Postgres down or restarting: the next snapshot catches up (a missed one only widens the window's start).
                    LogSnapshotFailed(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not snapshot index usage; retrying at the next interval")]
    private partial void LogSnapshotFailed(Exception exception);
}
