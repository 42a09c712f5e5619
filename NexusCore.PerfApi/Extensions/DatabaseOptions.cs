using System.ComponentModel.DataAnnotations;

namespace NexusCore.PerfApi.Extensions;

/// <summary>
/// Section <c>Database</c>: PerfApi's own pool on <c>clientsdb</c>. The seed's <c>DB_POOL_SIZE</c>,
/// <c>DB_CONNECTION_TIMEOUT</c> and <c>DB_COMMAND_TIMEOUT</c> reach these keys through
/// <see cref="NexusCore.ServiceDefaults.SeedSettings"/>, and size every service's own pool alike: local Postgres's
/// <c>max_connections</c> is sized on PerfApi holding <see cref="PoolSize"/>.
/// </summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    [Range(1, 1000)] public int PoolSize { get; set; } = 50;

    [Range(1, 300)] public int ConnectionTimeoutSeconds { get; set; } = 5;

    [Range(1, 3600)] public int CommandTimeoutSeconds { get; set; } = 30;
}
