using Npgsql;
using Polly;
using Polly.Retry;
using Polly.Telemetry;

namespace NexusCore.ClientsApi.Features.Clients.Batch;

/// <summary>
/// The batch transaction's retry, a Polly pipeline like the database read retries: a deadlock, a serialization
/// failure, or an email a concurrent writer took while an update was checking it rolled the transaction back and
/// wrote nothing, so it runs again at once (the check then sees the email taken), up to <see cref="MaxAttempts"/>
/// attempts in all. What is still failing after that is the endpoint's 409.
/// </summary>
internal static partial class Retries
{
    public const string Pipeline = "clients-batch";
    public const int MaxAttempts = 3;

    public static bool IsRetryable(PostgresException ex) =>
        ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.UniqueViolation;

    public static IServiceCollection AddBatchRetries(this IServiceCollection services)
    {
        // Polly's own telemetry would log each retried exception's text, which can name a key: this pipeline's
        // events are logged below by SQLSTATE only (its metrics stay).
        services.Configure<TelemetryOptions>(telemetry =>
        {
            var severity = telemetry.SeverityProvider;
            telemetry.SeverityProvider = args => args.Source.PipelineName == Pipeline
                ? ResilienceEventSeverity.None
                : severity?.Invoke(args) ?? args.Event.Severity;
        });
        services.AddResiliencePipeline(Pipeline, (pipeline, context) =>
        {
            var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(Endpoint));
            pipeline.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<PostgresException>(IsRetryable),
                MaxRetryAttempts = MaxAttempts - 1,
                Delay = TimeSpan.Zero,
                OnRetry = args =>
                {
                    // AttemptNumber counts from 0: the attempt that just failed is the next one.
                    LogRetry(logger, ((PostgresException)args.Outcome.Exception!).SqlState, args.AttemptNumber + 1);
                    return ValueTask.CompletedTask;
                },
            });
        });
        return services;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch transaction rolled back ({SqlState}) on attempt {Attempt}; retrying")]
    private static partial void LogRetry(ILogger logger, string sqlState, int attempt);
}
