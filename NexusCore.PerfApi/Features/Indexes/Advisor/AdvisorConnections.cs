using Npgsql;

namespace NexusCore.PerfApi.Features.Indexes.Advisor;

/// <summary>
/// The connections the advisor needs besides the shared pool: <see cref="Dedicated"/> opens a new, unpooled
/// backend each time, for an analysis (hypothetical indexes and prepared statements live in the backend) and for
/// an index build (<c>CREATE INDEX CONCURRENTLY</c> runs outside any transaction, for as long as it takes).
/// Closing such a connection ends its backend, so nothing an analysis did can reach another request. The
/// application name shows them in <c>pg_stat_activity</c>.
/// </summary>
public sealed class AdvisorConnections : IAsyncDisposable
{
    public const string ApplicationName = "nexuscore-index-advisor";

    public AdvisorConnections(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            ApplicationName = ApplicationName,
            // Builds set their own statement_timeout; the client must not give up first.
            CommandTimeout = 0,
        };
        Dedicated = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    public NpgsqlDataSource Dedicated { get; }

    public static AdvisorConnections FromConfiguration(IConfiguration configuration) =>
        new(configuration.GetConnectionString("clientsdb")
            ?? throw new InvalidOperationException("ConnectionStrings:clientsdb is not set: the index advisor needs the database."));

    public ValueTask DisposeAsync() => Dedicated.DisposeAsync();
}
