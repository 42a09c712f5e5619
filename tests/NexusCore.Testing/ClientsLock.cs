using Npgsql;

namespace NexusCore.Testing;

/// <summary>
/// A transaction holding a lock on <c>clients</c> until it commits, rolls back or is disposed (rolled
/// back): statements that need a conflicting lock wait on it, visible in <c>pg_stat_activity</c>, as they
/// would behind slow queries. Take one with <see cref="LockAsync"/>.
/// </summary>
public sealed class ClientsLock : IAsyncDisposable
{
    private static readonly string[] Modes = ["ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"];

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private ClientsLock(NpgsqlConnection connection, NpgsqlTransaction transaction) => (_connection, _transaction) = (connection, transaction);

    /// <summary>Locks <c>clients</c> of <paramref name="database"/> in <paramref name="mode"/>, one of Postgres' table lock modes.</summary>
    public static async Task<ClientsLock> LockAsync(NpgsqlDataSource database, string mode = "ACCESS EXCLUSIVE")
    {
        if (!Modes.Contains(mode))
        {
            throw new ArgumentException($"'{mode}' is not a table lock mode.", nameof(mode));
        }

        var connection = await database.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE clients IN {mode} MODE", connection, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        return new ClientsLock(connection, transaction);
    }

    public Task CommitAsync() => _transaction.CommitAsync();

    public Task RollbackAsync() => _transaction.RollbackAsync();

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
