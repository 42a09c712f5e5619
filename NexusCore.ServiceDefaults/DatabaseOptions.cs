using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The seed's database settings (its SUPABASE_* ones, renamed), read from configuration:
/// <c>DB_POOL_SIZE</c> (max pooled connections per instance, default 50), <c>DB_CONNECTION_TIMEOUT</c>
/// (seconds to open a connection or wait for a pooled one, default 5), <c>DB_COMMAND_TIMEOUT</c>
/// (seconds a query may run, default 30), <c>DB_MAX_RETRIES</c> (retries of idempotent reads on
/// transient errors, default 3) and <c>DB_RETRY_DELAY</c> (first retry delay in milliseconds, doubled
/// each time with jitter, default 200). ClientsApi also reads <c>DB_WRITE_POOL_SIZE</c> (max pooled
/// connections of its writes' own pool, default 10), <c>DB_LOOKUP_POOL_SIZE</c> (max pooled connections
/// of its by-id reads' own pool, default 20), <c>DB_BULK_LOOKUP_CONCURRENCY</c> (by-ids queries one
/// instance runs at once, default the machine's processor count) and <c>DB_AUTO_PREPARE</c> (statements
/// each of its connections keeps prepared, default 64, 0 = none).
/// </summary>
public sealed record DatabaseOptions(int PoolSize, int ConnectionTimeoutSeconds, int CommandTimeoutSeconds, int MaxRetries, int RetryDelayMs, int WritePoolSize, int AutoPrepare, int LookupPoolSize, int BulkLookupConcurrency)
{
    /// <summary>The resilience pipeline that retries idempotent reads; writes are never retried by it.</summary>
    public const string ReadPipeline = "db-read";

    /// <summary>The setting that sizes a service's (for ClientsApi: its reads') pool.</summary>
    public const string PoolSizeSetting = "DB_POOL_SIZE";

    /// <summary>The setting that sizes ClientsApi's pool for writes.</summary>
    public const string WritePoolSizeSetting = "DB_WRITE_POOL_SIZE";

    /// <summary>The setting that sizes ClientsApi's pool for reads by primary key.</summary>
    public const string LookupPoolSizeSetting = "DB_LOOKUP_POOL_SIZE";

    /// <summary>The setting that bounds how many by-ids queries one ClientsApi instance runs at once.</summary>
    public const string BulkLookupConcurrencySetting = "DB_BULK_LOOKUP_CONCURRENCY";

    /// <summary>The setting that bounds how many statements each ClientsApi connection keeps prepared.</summary>
    public const string AutoPrepareSetting = "DB_AUTO_PREPARE";

    /// <summary>ClientsApi's pool for writes: its data source's service key and its pool's name in Npgsql's metrics.</summary>
    public const string WritePoolName = "clientsdb-writes";

    /// <summary>ClientsApi's pool for reads by primary key (a client by id, clients by ids): its data source's service key and its pool's name in Npgsql's metrics.</summary>
    public const string LookupPoolName = "clientsdb-lookups";

    /// <summary>The setting that sizes the pool named <paramref name="pool"/> (ClientsApi's three pools; any other is <c>DB_POOL_SIZE</c>).</summary>
    public static string PoolSizeSettingOf(string pool) => pool switch
    {
        WritePoolName => WritePoolSizeSetting,
        LookupPoolName => LookupPoolSizeSetting,
        _ => PoolSizeSetting,
    };

    public static DatabaseOptions From(IConfiguration configuration) => new(
        Read(configuration, PoolSizeSetting, 50, 1, 1000),
        Read(configuration, "DB_CONNECTION_TIMEOUT", 5, 1, 300),
        Read(configuration, "DB_COMMAND_TIMEOUT", 30, 1, 3600),
        Read(configuration, "DB_MAX_RETRIES", 3, 0, 10),
        Read(configuration, "DB_RETRY_DELAY", 200, 1, 60_000),
        Read(configuration, WritePoolSizeSetting, 10, 1, 1000),
        Read(configuration, AutoPrepareSetting, 64, 0, 1000),
        Read(configuration, LookupPoolSizeSetting, 20, 1, 1000),
        Read(configuration, BulkLookupConcurrencySetting, Environment.ProcessorCount, 1, 1000));

    /// <summary>A pool's size (<see cref="PoolSize"/>, <see cref="LookupPoolSize"/> or <see cref="WritePoolSize"/>) and the timeouts onto a connection string.</summary>
    public void ApplyTo(NpgsqlConnectionStringBuilder connection, int poolSize)
    {
        connection.MaxPoolSize = poolSize;
        connection.MinPoolSize = Math.Min(connection.MinPoolSize, poolSize);
        connection.Timeout = ConnectionTimeoutSeconds;
        connection.CommandTimeout = CommandTimeoutSeconds;
    }

    /// <summary>
    /// For connections that never keep session state (ClientsApi's: its settings and advisory locks are
    /// all transaction-scoped). Npgsql prepares each connection's statements from their second use, up to
    /// <c>DB_AUTO_PREPARE</c> of them, so Postgres parses and analyzes them once. And a connection goes
    /// back to the pool without Npgsql's reset (DISCARD ALL, or RESET ALL and three more statements once
    /// statements are prepared), which Postgres otherwise runs before each request's query.
    /// </summary>
    /// <param name="connection">The pool's connection string.</param>
    /// <param name="plans">
    /// How Postgres plans those prepared statements. <see cref="PlanReuse.CustomPerExecution"/> plans every
    /// execution for its actual values, as for an unprepared statement: for searches, lists, exports and
    /// analytics, where a generic plan could walk the table in date order for a q that matches four
    /// rows. <see cref="PlanReuse.Generic"/> plans a statement once per connection: for lookups by primary
    /// key, whose plan no value can change, it saves Postgres the planning of each execution (with 100
    /// ids, about a tenth of its CPU per query; for one id, about a third).
    /// </param>
    public void ApplyStatementReuse(NpgsqlConnectionStringBuilder connection, PlanReuse plans = PlanReuse.CustomPerExecution)
    {
        connection.NoResetOnClose = true;
        if (AutoPrepare == 0)
        {
            return;
        }

        connection.MaxAutoPrepare = AutoPrepare;
        connection.AutoPrepareMinUsages = 2;
        var mode = plans == PlanReuse.Generic ? GenericPlans : CustomPlans;
        connection.Options = string.IsNullOrWhiteSpace(connection.Options)
            ? mode
            : connection.Options + " " + mode;
    }

    private const string CustomPlans = "-c plan_cache_mode=force_custom_plan";

    private const string GenericPlans = "-c plan_cache_mode=force_generic_plan";

    private static int Read(IConfiguration configuration, string key, int fallback, int min, int max)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new InvalidOperationException($"{key} must be a whole number from {min} to {max}; it is '{text}'.");
    }
}

/// <summary>How Postgres plans a pool's prepared statements (see <see cref="DatabaseOptions.ApplyStatementReuse"/>).</summary>
public enum PlanReuse
{
    /// <summary><c>plan_cache_mode=force_custom_plan</c>: each execution planned for its values.</summary>
    CustomPerExecution,

    /// <summary><c>plan_cache_mode=force_generic_plan</c>: one plan per statement and connection, for any values.</summary>
    Generic,
}

public static class DatabaseResilienceExtensions
{
    /// <summary>
    /// Registers <see cref="DatabaseOptions.ReadPipeline"/>: retries a read when Npgsql calls the error
    /// transient (connection lost, server restarting, pool timeout), with exponential back-off and jitter.
    /// </summary>
    public static IServiceCollection AddDatabaseReadRetries(this IServiceCollection services, DatabaseOptions options)
    {
        // Polly's telemetry would log each attempt's result with ToString(): rows of clients. Only
        // the result's type is logged.
        services.Configure<Polly.Telemetry.TelemetryOptions>(telemetry =>
            telemetry.ResultFormatter = (_, result) => result?.GetType().Name);
        services.AddResiliencePipeline(DatabaseOptions.ReadPipeline, (pipeline, context) =>
        {
            if (options.MaxRetries > 0)
            {
                var pools = context.ServiceProvider.GetService<DatabasePools>();
                pipeline.AddRetry(new RetryStrategyOptions
                {
                    // A restarted server left dead connections in every pool: drop them before retrying.
                    OnRetry = args =>
                    {
                        pools?.ClearIfServerGone(args.Outcome.Exception);
                        return ValueTask.CompletedTask;
                    },
                    // Not a pool timeout: when every connection is busy, waiting again only adds load
                    // and latency; the caller gets 503 with Retry-After after one acquire timeout.
                    ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(e => e.IsTransient && e.InnerException is not TimeoutException),
                    MaxRetryAttempts = options.MaxRetries,
                    Delay = TimeSpan.FromMilliseconds(options.RetryDelayMs),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    MaxDelay = TimeSpan.FromSeconds(2),
                });
            }
        });
        return services;
    }
}
