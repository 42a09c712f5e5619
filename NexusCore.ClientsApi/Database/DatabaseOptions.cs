using System.ComponentModel.DataAnnotations;
using NexusCore.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Polly;
using Polly.Retry;

namespace NexusCore.ClientsApi.Database;

/// <summary>
/// Section <c>Database</c>: ClientsApi's pools, timeouts and read retries. The seed's flat names
/// (<c>DB_POOL_SIZE</c>, <c>DB_WRITE_POOL_SIZE</c>, ...) reach these keys through <see cref="SeedSettings"/>;
/// README's configuration table lists both and is tested against this type.
/// </summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>The resilience pipeline that retries idempotent reads; writes are never retried by it.</summary>
    public const string ReadPipeline = "db-read";

    /// <summary>ClientsApi's pool for writes: its data source's service key and its pool's name in Npgsql's metrics.</summary>
    public const string WritePoolName = "clientsdb-writes";

    /// <summary>ClientsApi's pool for reads by primary key (a client by id, clients by ids): its data source's service key and its pool's name in Npgsql's metrics.</summary>
    public const string LookupPoolName = "clientsdb-lookups";

    /// <summary>The main pool: searches, lists, exports and analytics.</summary>
    public const string MainPoolName = "clientsdb";

    /// <summary>Max pooled connections of the main pool, per instance.</summary>
    [Range(1, 1000)] public int PoolSize { get; set; } = 50;

    /// <summary>Max pooled connections of the writes' own pool.</summary>
    [Range(1, 1000)] public int WritePoolSize { get; set; } = 10;

    /// <summary>Max pooled connections of the by-id reads' own pool.</summary>
    [Range(1, 1000)] public int LookupPoolSize { get; set; } = 20;

    /// <summary>By-ids queries one instance runs at once.</summary>
    [Range(1, 1000)] public int BulkLookupConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>Statements each connection keeps prepared (0 = none).</summary>
    [Range(0, 1000)] public int AutoPrepare { get; set; } = 64;

    /// <summary>Seconds to open a connection or wait for a pooled one.</summary>
    [Range(1, 300)] public int ConnectionTimeoutSeconds { get; set; } = 5;

    /// <summary>Seconds a query may run.</summary>
    [Range(1, 3600)] public int CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>Retries of idempotent reads on transient errors.</summary>
    [Range(0, 10)] public int MaxRetries { get; set; } = 3;

    /// <summary>First retry delay in milliseconds, doubled each time with jitter.</summary>
    [Range(1, 60_000)] public int RetryDelayMs { get; set; } = 200;

    /// <summary>The setting at <c>Database:&lt;property&gt;</c> as the seed names it (<c>DB_POOL_SIZE</c>).</summary>
    public static string Setting(string property) => SeedSettings.NameOf($"{Section}:{property}");

    /// <summary>Each pool by name, with the key of the setting that sizes it and its size.</summary>
    public IReadOnlyList<(string Pool, string Key, int Size)> Pools =>
    [
        (MainPoolName, $"{Section}:{nameof(PoolSize)}", PoolSize),
        (LookupPoolName, $"{Section}:{nameof(LookupPoolSize)}", LookupPoolSize),
        (WritePoolName, $"{Section}:{nameof(WritePoolSize)}", WritePoolSize),
    ];

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
    /// <c>DB_AUTO_PREPARE</c> (<see cref="AutoPrepare"/>) of them, so Postgres parses and analyzes them once. And a connection goes
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
