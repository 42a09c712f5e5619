using Npgsql;

namespace NexusCore.PerfApi.Features.Indexes.Advisor;

/// <summary>
/// The connections the advisor needs besides the shared pool, each opening a new, unpooled backend: <see cref="Planning"/>
/// for an analysis (hypothetical indexes and prepared statements live in the backend), as a role that can only read the
/// application's tables, in read-only sessions (<c>ConnectionStrings:clientsdb-advisor</c>); <see cref="Building"/> for an
/// index build or drop (<c>CREATE INDEX CONCURRENTLY</c> runs outside any transaction, for as long as it takes), as the
/// role that may build and drop the clients table's indexes and nothing else (<c>ConnectionStrings:clientsdb-indexer</c>).
/// Closing such a connection ends its backend, so nothing an analysis did can reach another request. The application
/// name shows them in <c>pg_stat_activity</c>.
/// </summary>
public sealed class AdvisorConnections : IAsyncDisposable
{
    public const string ApplicationName = "nexuscore-index-advisor";

    /// <summary>Both kinds of work on one connection string (tests that plan on the stack's own database).</summary>
    public AdvisorConnections(string connectionString)
        : this(connectionString, connectionString)
    {
    }

    public AdvisorConnections(string planning, string building)
    {
        Planning = Unpooled(planning);
        Building = Unpooled(building);
    }

    public NpgsqlDataSource Planning { get; }

    public NpgsqlDataSource Building { get; }

    /// <summary>
    /// The AppHost always gives PerfApi both connection strings; without them (PerfApi run by hand against one
    /// database) both fall back to <c>clientsdb</c>, whose role then needs the grants of both.
    /// </summary>
    public static AdvisorConnections FromConfiguration(IConfiguration configuration)
    {
        var main = configuration.GetConnectionString("clientsdb")
            ?? throw new InvalidOperationException("ConnectionStrings:clientsdb is not set: the index advisor needs the database.");
        return new(configuration.GetConnectionString("clientsdb-advisor") ?? main, configuration.GetConnectionString("clientsdb-indexer") ?? main);
    }

    public async ValueTask DisposeAsync()
    {
        await Planning.DisposeAsync();
        await Building.DisposeAsync();
    }

    private static NpgsqlDataSource Unpooled(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            // Builds set their own statement_timeout; the client must not give up first.
            CommandTimeout = 0,
        };
        builder.ApplicationName ??= ApplicationName;
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
