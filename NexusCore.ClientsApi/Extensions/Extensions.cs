using FastEndpoints;
using FastEndpoints.Swagger;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ClientsApi.Features.Clients.Batch;
using NexusCore.ClientsApi.Features.Clients.Export;
using NexusCore.ClientsApi.Features.Clients.Query;
using NexusCore.ClientsApi.Database;
using NexusCore.ServiceDefaults;
using Npgsql;

namespace NexusCore.ClientsApi.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Configuration.AddSeedSettings();
        var database = builder.BindAtStart<DatabaseOptions>(DatabaseOptions.Section);
        // The three pools alike but for name, size and plan reuse. Named, so that a pool reads
        // "clientsdb", "clientsdb-lookups" or "clientsdb-writes" in metrics and alerts rather than its
        // connection string.
        void Configure(NpgsqlDataSourceBuilder source, string name, int poolSize, PlanReuse plans = PlanReuse.CustomPerExecution)
        {
            source.Name = name;
            database.ApplyTo(source.ConnectionStringBuilder, poolSize);
            database.ApplyStatementReuse(source.ConnectionStringBuilder, plans);
        }

        builder.AddNpgsqlDataSource("clientsdb", configureDataSourceBuilder: source => Configure(source, DatabaseOptions.MainPoolName, database.PoolSize));

        // A pool of its own on the same database. Tracing, metrics and health come with the main data
        // source (Npgsql's spans and pool metrics cover every data source, named by pool).
        void AddPool(string name, int poolSize, PlanReuse plans) => builder.AddKeyedNpgsqlDataSource(
            name,
            settings =>
            {
                settings.ConnectionString ??= builder.Configuration.GetConnectionString("clientsdb");
                settings.DisableHealthChecks = true;
                settings.DisableTracing = true;
                settings.DisableMetrics = true;
            },
            source => Configure(source, name, poolSize, plans));

        // Writes: a burst of reads cannot hold the connections an acknowledged write needs, and
        // consecutive writes reuse a few Postgres backends. (Npgsql hands out idle connections oldest
        // first; over a large read pool, each write landed on a backend that had not written for a
        // while: 70-77 ms per 1,000-row insert against 38-56 ms on one warm backend.)
        AddPool(WriteDatabase.Name, database.WritePoolSize, PlanReuse.CustomPerExecution);
        builder.Services.AddSingleton(sp => new WriteDatabase(sp.GetRequiredKeyedService<NpgsqlDataSource>(WriteDatabase.Name)));

        // Reads by primary key, whose statements Postgres plans once per connection: with every
        // execution planned, planning cost Postgres a third of its CPU for a client by id and a tenth
        // for 100 ids. Searches keep their per-execution plans on the main pool.
        AddPool(LookupDatabase.Name, database.LookupPoolSize, PlanReuse.Generic);
        builder.Services.AddSingleton(sp => new LookupDatabase(sp.GetRequiredKeyedService<NpgsqlDataSource>(LookupDatabase.Name), database.BulkLookupConcurrency, TimeSpan.FromSeconds(database.ConnectionTimeoutSeconds), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.AddSingleton(sp => new DatabasePools([
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<LookupDatabase>().Source,
            sp.GetRequiredService<WriteDatabase>().Source]));
        builder.Services.AddDatabaseReadRetries(database);
        builder.Services.AddBatchRetries();
        builder.Services.AddWriteOutcomeProblems();
        // Redis's health is reported by RedisHealthCheck as "degraded", never "unhealthy": the API keeps
        // serving without it.
        // Redis's socket is read on the shared thread pool rather than StackExchange.Redis's own
        // dedicated threads: one less thread to wake per reply on a 2-core machine.
        builder.AddRedisClient("cache", settings => settings.DisableHealthChecks = true,
            options => options.SocketManager = StackExchange.Redis.SocketManager.ThreadPool);
        builder.Services.AddOptions<PerformanceMonitoringOptions>().BindConfiguration(PerformanceMonitoringOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<QueryTelemetry>();
        builder.Services.AddHostedService<SettingsTelemetry>();
        QueryTelemetry.AddQueryDurationView(builder.Services);
        builder.AddResponseCaching();

        // Kestrel:Limits (e.g. MaxRequestBodySize, 2 MB by default in appsettings.json) from configuration.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(builder.Configuration.GetSection("Kestrel"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<CursorOptions>().BindConfiguration(CursorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // The shared secret is also the root of cache-key digests (a different HKDF derivation): both
        // must be alike on every replica, and neither may be guessable.
        builder.Services.AddSingleton(sp => new CursorProtector(
            System.Text.Encoding.UTF8.GetBytes(sp.GetRequiredService<IOptions<CursorOptions>>().Value.SigningKey)));
        builder.Services.AddSingleton(sp => new CacheKeys(
            System.Text.Encoding.UTF8.GetBytes(sp.GetRequiredService<IOptions<CursorOptions>>().Value.SigningKey)));
        builder.Services.AddOptions<ExportOptions>().BindConfiguration(ExportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<IdempotencyKeyOptions>().BindConfiguration(IdempotencyKeyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<IdempotencyKeyJanitor>();

        builder.Services.AddFastEndpoints();
        // The document's shared parts (security schemes and roles, the problem schema, title, server) come from
        // NexusCore.Web's OpenApiDefaults; each route describes its own parameters, bodies and statuses.
        builder.Services.SwaggerDocument(options => options.UseNexusDefaults(
            "NexusCore Clients API",
            "Clients of the coaching platform: create, read, change and delete them, search and page through them, write up to 1,000 at once, export them and read their analytics. Every route is under `/api/v1` and needs an API key (each operation names its role). Errors are RFC 9457 problem documents.",
            settings => settings.DocumentProcessors.Add(new ClientSchemasProcessor())));
    }
}
