using Microsoft.Extensions.Hosting;
using Npgsql;

namespace NexusCore.ClientsApi.Extensions;

/// <summary>
/// The data source ClientsApi reads clients by primary key through (<c>GET /clients/{id}</c> and by-ids):
/// <c>clientsdb</c> with a pool of its own, <c>DB_LOOKUP_POOL_SIZE</c> connections, whose prepared
/// statements Postgres plans once (<see cref="PlanReuse.Generic"/>). Only statements whose best plan no
/// parameter value can change belong here; searches, lists, exports and analytics use the main
/// <see cref="NpgsqlDataSource"/>, planned for each execution's values.
/// </summary>
public sealed class LookupDatabase(NpgsqlDataSource source)
{
    /// <summary>The data source's service key, and its pool's name in Npgsql's metrics.</summary>
    public const string Name = DatabaseOptions.LookupPoolName;

    public NpgsqlDataSource Source { get; } = source;
}
