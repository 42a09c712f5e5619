using Microsoft.Extensions.Hosting;
using Npgsql;

namespace NexusCore.ClientsApi.Extensions;

/// <summary>
/// The data source ClientsApi writes through (creates, updates, deletes, batches, idempotency keys):
/// <c>clientsdb</c> with a pool of its own, <c>DB_WRITE_POOL_SIZE</c> connections. Reads use the main
/// <see cref="NpgsqlDataSource"/>.
/// </summary>
public sealed class WriteDatabase(NpgsqlDataSource source)
{
    /// <summary>The data source's service key, and its pool's name in Npgsql's metrics.</summary>
    public const string Name = DatabaseOptions.WritePoolName;

    public NpgsqlDataSource Source { get; } = source;
}
