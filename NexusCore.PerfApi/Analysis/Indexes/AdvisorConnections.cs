using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>
/// The advisor's own connections, each under its own role, besides PerfApi's shared pool (which reads statistics
/// and catalogs): <see cref="Planning"/> for analyses (PREPARE and EXPLAIN in read-only transactions, hypothetical
/// indexes) and <see cref="Indexing"/> for <c>CREATE/DROP INDEX CONCURRENTLY</c>. Both open a new, unpooled backend
/// each time (hypothetical indexes and prepared statements live in the backend; a build runs outside any
/// transaction for as long as it takes): closing one ends its backend, so nothing an analysis or a build did can
/// reach another request. The application name shows them in <c>pg_stat_activity</c>.
/// </summary>
public sealed class AdvisorConnections : IAsyncDisposable
{
    public const string ApplicationName = "nexuscore-index-advisor";

    /// <summary>The planning role's connection string: SELECT on the application's tables only.</summary>
    public const string PlanningConnectionName = "clientsdb-advisor";

    /// <summary>The index builder's connection string: may create and drop indexes on the application's tables only.</summary>
    public const string IndexingConnectionName = "clientsdb-indexer";

    public AdvisorConnections(string planning, string indexing)
    {
        Planning = Create(planning);
        Indexing = Create(indexing);
    }

    /// <summary>Analyses: statements are prepared and explained here, never executed.</summary>
    public NpgsqlDataSource Planning { get; }

    /// <summary>Index builds and the drop of an invalid index a failed build left.</summary>
    public NpgsqlDataSource Indexing { get; }

    public static AdvisorConnections FromConfiguration(IConfiguration configuration)
    {
        // The AppHost always sets both, each with its own role; without them (a service started on its own) the
        // advisor falls back to PerfApi's own connection string.
        var shared = configuration.GetConnectionString("clientsdb");
        var planning = configuration.GetConnectionString(PlanningConnectionName) ?? shared;
        var indexing = configuration.GetConnectionString(IndexingConnectionName) ?? shared;
        return planning is null || indexing is null
            ? throw new InvalidOperationException(
                $"ConnectionStrings:{PlanningConnectionName} and {IndexingConnectionName} (or clientsdb) are not set: the index advisor needs the database.")
            : new AdvisorConnections(planning, indexing);
    }

    public async ValueTask DisposeAsync()
    {
        await Planning.DisposeAsync();
        await Indexing.DisposeAsync();
    }

    private static NpgsqlDataSource Create(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            ApplicationName = ApplicationName,
            // Planning and builds set their own statement_timeout; the client must not give up first.
            CommandTimeout = 0,
        };

        // No logger factory: Npgsql logs nothing of these sessions (an error's text would reach the logs).
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
