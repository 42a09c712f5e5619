using NexusCore.ClientsApi.Database;
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

    /// <summary>
    /// Opens a connection for a request's write and marks the request as a write (<see cref="WriteProgress"/>):
    /// if it then fails on an outage, its 503 says whether anything can have been applied. A failure to
    /// get a connection (pool exhausted, server unreachable) sent nothing.
    /// </summary>
    public async Task<WriteConnection> OpenAsync(HttpContext context, CancellationToken ct)
    {
        var progress = WriteProgress.Start(context);
        return new WriteConnection(await Source.OpenConnectionAsync(ct), progress);
    }

    /// <summary>
    /// A write that is one statement in autocommit (a create, PATCH or DELETE), run by
    /// <paramref name="write"/> on a connection of <see cref="OpenAsync"/>: from the moment the statement
    /// is sent, a failure leaves the outcome unknown (a server that stalls can still commit it when it
    /// resumes). One round trip, where a transaction of its own would take two.
    /// </summary>
    public async Task<T> OneStatementAsync<T>(HttpContext context, Func<NpgsqlConnection, Task<T>> write, CancellationToken ct)
    {
        await using var connection = await OpenAsync(context, ct);
        connection.Progress.CommitSending();
        return await write(connection.Connection);
    }
}

/// <summary>A request's write connection (see <see cref="WriteDatabase.OpenAsync"/>).</summary>
public sealed class WriteConnection(NpgsqlConnection connection, WriteProgress progress) : IAsyncDisposable
{
    public NpgsqlConnection Connection { get; } = connection;

    internal WriteProgress Progress { get; } = progress;

    /// <summary>Commits a transaction of this connection; from the moment the COMMIT is sent, a failure leaves the outcome unknown.</summary>
    public Task CommitAsync(NpgsqlTransaction transaction, CancellationToken ct)
    {
        Progress.CommitSending();
        return transaction.CommitAsync(ct);
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}

public static class WriteReaderExtensions
{
    /// <summary>
    /// Reads a write's command to its end. Its <c>RETURNING</c> row can arrive before the statement has
    /// committed (in autocommit the commit, and any deferred trigger or constraint, runs after the
    /// rows, and a failure there is reported after them), so a write is acknowledged only once this
    /// returns; a failure here throws like any other.
    /// </summary>
    public static async Task CompleteAsync(this NpgsqlDataReader reader, CancellationToken ct)
    {
        while (await reader.ReadAsync(ct))
        {
        }

        while (await reader.NextResultAsync(ct))
        {
        }
    }
}
