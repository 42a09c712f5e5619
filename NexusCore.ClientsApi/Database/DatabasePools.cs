using System.Net.Sockets;
using Npgsql;

namespace NexusCore.ClientsApi.Database;

/// <summary>
/// Every Npgsql pool of a service. Npgsql keeps idle pooled connections after Postgres restarts or
/// crashes, and each fails only when next used; when an error shows the server closed its connections,
/// all pools are cleared so that the next requests, reads and writes alike, open fresh ones instead of
/// failing one dead connection at a time.
/// </summary>
public sealed class DatabasePools(IReadOnlyList<NpgsqlDataSource> sources)
{
    public IReadOnlyList<NpgsqlDataSource> Sources { get; } = sources;

    /// <summary>Clears every pool when <paramref name="exception"/> shows the server closed connections; returns whether it did.</summary>
    public bool ClearIfServerGone(Exception? exception)
    {
        if (!IsServerGone(exception))
        {
            return false;
        }

        foreach (var source in Sources)
        {
            source.Clear();
        }

        return true;
    }

    /// <summary>An administrator or crash shutdown of the server, or a connection broken under a command.</summary>
    public static bool IsServerGone(Exception? exception)
    {
        var fromNpgsql = false;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown }:
                    return true;
                case NpgsqlException:
                    fromNpgsql = true;
                    break;
                case IOException or SocketException or EndOfStreamException when fromNpgsql:
                    return true;
            }
        }

        return false;
    }
}
