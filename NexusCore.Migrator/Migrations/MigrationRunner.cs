using DbUp;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace NexusCore.Migrator.Migrations;

/// <summary>
/// Applies the embedded, versioned SQL scripts (<c>Vnnnn__name.sql</c>) in order with DbUp, recording
/// each in <c>public.schema_migrations</c>. A session-level advisory lock makes concurrent runs
/// take turns: the second waits, then finds nothing left to apply.
/// </summary>
public sealed partial class MigrationRunner(ILogger<MigrationRunner> logger)
{
    public const string JournalTable = "schema_migrations";

    /// <summary>"NexusMig" as a 64-bit key; any other user of advisory locks must avoid it.</summary>
    public const long AdvisoryLockKey = 0x4E65_7875_734D_6967;

    public async Task<MigrationOutcome> RunAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var lockConnection = new NpgsqlConnection(connectionString);
        await lockConnection.OpenAsync(cancellationToken);
        await AcquireLockAsync(lockConnection, cancellationToken);

        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(MigrationRunner).Assembly, IsMigrationScript)
                .JournalToPostgresqlTable("public", JournalTable)
                .WithTransactionPerScript()
                // Function bodies use $$ quoting; DbUp's $variable$ substitution must not touch them.
                .WithVariablesDisabled()
                .LogTo(logger)
                .Build();

            var result = upgrader.PerformUpgrade();
            var applied = result.Scripts.Select(s => s.Name).ToList();
            if (!result.Successful)
            {
                LogFailed(result.ErrorScript?.Name ?? "(none)", result.Error);
                return new MigrationOutcome(false, applied, result.ErrorScript?.Name, result.Error?.Message);
            }

            if (applied.Count == 0)
            {
                LogUpToDate();
            }
            else
            {
                LogApplied(applied.Count, string.Join(", ", applied));
            }

            return new MigrationOutcome(true, applied, null, null);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", lockConnection)
            {
                Parameters = { new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey } },
            };
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public static IReadOnlyList<string> EmbeddedScripts() =>
        typeof(MigrationRunner).Assembly.GetManifestResourceNames().Where(IsMigrationScript).Order(StringComparer.Ordinal).ToList();

    private static bool IsMigrationScript(string resourceName) =>
        resourceName.Contains(".Migrations.V", StringComparison.Ordinal)
        && resourceName.EndsWith(".sql", StringComparison.Ordinal);

    private async Task AcquireLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection)
        {
            Parameters = { new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey } },
        };
        if (await tryLock.ExecuteScalarAsync(cancellationToken) is true)
        {
            return;
        }

        LogWaitingForLock();
        await using var waitLock = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection)
        {
            Parameters = { new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey } },
        };
        await waitLock.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Another migrator holds the migration lock; waiting for it to finish")]
    private partial void LogWaitingForLock();

    [LoggerMessage(Level = LogLevel.Information, Message = "Database is up to date; no migration applied")]
    private partial void LogUpToDate();

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} migration(s): {Scripts}")]
    private partial void LogApplied(int count, string scripts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Migration {Script} failed; it and every later script were not applied")]
    private partial void LogFailed(string script, Exception? exception);
}

/// <summary>What one run did: the scripts it applied, or the script that failed and why.</summary>
public sealed record MigrationOutcome(bool Succeeded, IReadOnlyList<string> Applied, string? FailedScript, string? Error);
