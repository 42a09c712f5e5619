using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Analysis.Alerts;

/// <summary>
/// Evaluates the alert conditions every <see cref="AlertOptions.EvaluationInterval"/>, keeps the
/// <see cref="AlertBoard"/> current and logs each alert as it starts and as it stops.
/// </summary>
internal sealed partial class AlertMonitor(
    AlertEvaluator evaluator,
    AlertBoard board,
    TimeProvider time,
    IOptions<AlertOptions> options,
    ILogger<AlertMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.EvaluationInterval, time);
        try
        {
            do
            {
                EvaluateOnce();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One evaluation: updates the board and logs the transitions.</summary>
    internal void EvaluateOnce()
    {
        try
        {
            foreach (var transition in board.Update(evaluator.Evaluate(), time.GetUtcNow()))
            {
                if (transition.State == AlertState.Started)
                {
                    LogAlertStarted(transition.Kind, transition.Subject, transition.Value, transition.Unit, transition.Threshold);
                }
                else
                {
                    LogAlertStopped(transition.Kind, transition.Subject, transition.Value, transition.Unit);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug in one evaluation must not end alerting for the life of the process.
            LogEvaluationFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {AlertKind} started for {Subject}: {Value} {Unit} crosses the threshold of {Threshold}")]
    private partial void LogAlertStarted(AlertKind alertKind, string subject, double value, string unit, double threshold);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {AlertKind} stopped for {Subject} (last value {Value} {Unit})")]
    private partial void LogAlertStopped(AlertKind alertKind, string subject, double value, string unit);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not evaluate the alert conditions; they are evaluated again at the next interval")]
    private partial void LogEvaluationFailed(Exception exception);
}
