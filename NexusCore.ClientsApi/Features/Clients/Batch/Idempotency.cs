using NexusCore.ClientsApi.Extensions;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Batch;

/// <summary>Section <c>Idempotency</c>.</summary>
public sealed class IdempotencyKeyOptions
{
    public const string Section = "Idempotency";

    /// <summary>How long a key's first result is replayed (hours).</summary>
    [Range(1, 24 * 30)]
    public int RetentionHours { get; init; } = 24;
}

internal enum KeyState
{
    /// <summary>First use of the key: go ahead.</summary>
    Fresh,

    /// <summary>Another request with this key is still running.</summary>
    InProgress,

    /// <summary>Done before with the same request: replay the stored answer.</summary>
    Replay,

    /// <summary>Done before with a different request.</summary>
    Mismatch,
}

/// <summary>
/// Idempotency keys, held inside the request's own transaction: a transaction-scoped advisory lock
/// marks the key as in progress (released if the process dies), and the stored answer is inserted in
/// the transaction that did the writes, so "written" and "remembered" commit together.
/// </summary>
internal static class IdempotencyKeys
{
    private const string LockSql = "SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 7368))";

    private const string FindSql = """
        SELECT request_hash, status_code, response
        FROM idempotency_keys
        WHERE scope = $1 AND key = $2 AND created_at > now() - make_interval(hours => $3)
        """;

    private const string SaveSql = """
        INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (scope, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,
            response = EXCLUDED.response, created_at = now()
        """;

    public static async Task<(KeyState State, int Status, byte[]? Response)> ClaimAsync(
        NpgsqlConnection connection, string scope, string key, byte[] requestHash, int retentionHours, CancellationToken ct)
    {
        await using (var command = new NpgsqlCommand(LockSql, connection))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            if (await command.ExecuteScalarAsync(ct) is not true)
            {
                return (KeyState.InProgress, 0, null);
            }
        }

        await using (var command = new NpgsqlCommand(FindSql, connection))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = retentionHours });
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return (KeyState.Fresh, 0, null);
            }

            return reader.GetFieldValue<byte[]>(0).AsSpan().SequenceEqual(requestHash)
                ? (KeyState.Replay, reader.GetInt32(1), reader.GetFieldValue<byte[]>(2))
                : (KeyState.Mismatch, 0, null);
        }
    }

    public static async Task SaveAsync(
        NpgsqlConnection connection, string scope, string key, byte[] requestHash, int status, byte[] response, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(SaveSql, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = requestHash });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = status });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = response });
        await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>Deletes idempotency keys past their retention, hourly.</summary>
internal sealed partial class IdempotencyKeyJanitor(
    WriteDatabase writes, IOptions<IdempotencyKeyOptions> options, ILogger<IdempotencyKeyJanitor> logger, TimeProvider clock) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        do
        {
            try
            {
                await using var command = writes.Source.CreateCommand("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)");
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.Value.RetentionHours });
                LogExpired(await command.ExecuteNonQueryAsync(stoppingToken));
            }
            catch (NpgsqlException ex)
            {
                LogFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Removed {Count} expired idempotency keys")]
    private partial void LogExpired(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove expired idempotency keys; will retry in an hour")]
    private partial void LogFailed(Exception exception);
}
