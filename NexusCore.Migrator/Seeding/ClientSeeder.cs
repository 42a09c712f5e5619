using System.Collections;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace NexusCore.Migrator.Seeding;

/// <summary>
/// Makes seeded clients 1..<see cref="SeedOptions.Clients"/> exist: it copies exactly the ordinals no
/// row holds yet, so a rerun with the same or a lower count adds nothing and a higher count adds the
/// difference. The whole load is one transaction: an interrupted load leaves nothing behind, not even
/// dropped indexes.
/// </summary>
public sealed partial class ClientSeeder(IOptions<SeedOptions> options, TimeProvider time, ILogger<ClientSeeder> logger)
{
    public async Task<SeedOutcome> SeedAsync(string connectionString, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var started = Stopwatch.GetTimestamp();
        var generator = new ClientGenerator(settings.AsOf ?? DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Data.SetMaintenanceWorkMemAsync(connection, settings.MaintenanceWorkMem, cancellationToken);

        // A first look without a lock picks the lock: a rerun that has nothing to add takes none, and a
        // load that will drop indexes takes the exclusive lock at once instead of upgrading to it later
        // (an upgrade can deadlock with a reader that goes on to write).
        var plan = await PlanAsync(connection, settings, cancellationToken);
        if (plan.Missing > 0)
        {
            var exclusive = plan.Rebuild;
            await (exclusive
                ? Data.LockClientsExclusivelyAsync(connection, cancellationToken)
                : Data.LockClientsAsync(connection, cancellationToken));

            // Another seeder may have loaded while this one waited for the lock.
            plan = await PlanAsync(connection, settings, cancellationToken);
            plan = plan with { Rebuild = plan.Rebuild && exclusive };
        }

        if (plan.Missing == 0)
        {
            LogNothingToAdd(settings.Clients, plan.Present);
            return new SeedOutcome(settings.Clients, plan.Present, 0, RebuiltIndexes: [], Stopwatch.GetElapsedTime(started));
        }

        var missing = plan.Missing;
        LogPlan(settings.Clients, plan.Present, missing, plan.TableRows, plan.Rebuild, generator.AsOf);

        IReadOnlyList<RebuildableIndex> dropped = [];
        if (plan.Rebuild)
        {
            dropped = await Data.ReadRebuildableIndexesAsync(connection, cancellationToken);
            foreach (var index in dropped)
            {
                await Data.DropIndexAsync(connection, index, cancellationToken);
            }

            LogDroppedIndexes(dropped.Count, string.Join(", ", dropped.Select(i => i.QualifiedName)));
        }

        var copyStarted = Stopwatch.GetTimestamp();
        var copied = await Data.CopyAsync(
            connection,
            Missing(generator, plan.Taken, settings.Clients),
            settings.ProgressEvery,
            written => LogProgress(written, missing, RowsPerSecond(written, Stopwatch.GetElapsedTime(copyStarted))),
            cancellationToken);
        var copyTime = Stopwatch.GetElapsedTime(copyStarted);
        LogCopied((long)copied, copyTime.TotalSeconds, RowsPerSecond((long)copied, copyTime));

        foreach (var index in dropped)
        {
            var indexStarted = Stopwatch.GetTimestamp();
            await Data.CreateIndexAsync(connection, index, cancellationToken);
            LogRebuiltIndex(index.QualifiedName, Stopwatch.GetElapsedTime(indexStarted).TotalSeconds);
        }

        await transaction.CommitAsync(cancellationToken);
        await Data.VacuumClientsAsync(connection, cancellationToken);

        var elapsed = Stopwatch.GetElapsedTime(started);
        LogSeeded((long)copied, settings.Clients, elapsed.TotalSeconds, RowsPerSecond((long)copied, elapsed));
        return new SeedOutcome(settings.Clients, plan.Present, (long)copied, dropped.Select(i => i.QualifiedName).ToList(), elapsed);
    }

    private static async Task<LoadPlan> PlanAsync(NpgsqlConnection connection, SeedOptions settings, CancellationToken cancellationToken)
    {
        var taken = await Data.ReadTakenOrdinalsAsync(connection, settings.Clients, cancellationToken);
        var present = CountSet(taken);
        var missing = settings.Clients - present;
        if (missing == 0)
        {
            return new LoadPlan(taken, present, 0, 0, Rebuild: false);
        }

        var tableRows = await Data.CountClientsAsync(connection, cancellationToken);
        return new LoadPlan(taken, present, missing, tableRows, Rebuild: missing >= settings.RebuildIndexesFrom && missing >= tableRows);
    }

    private static IEnumerable<SeedClient> Missing(ClientGenerator generator, BitArray taken, int upTo)
    {
        for (var ordinal = 1; ordinal <= upTo; ordinal++)
        {
            if (!taken[ordinal])
            {
                yield return generator.Generate(ordinal);
            }
        }
    }

    private static int CountSet(BitArray bits)
    {
        var count = 0;
        for (var i = 0; i < bits.Length; i++)
        {
            if (bits[i])
            {
                count++;
            }
        }

        return count;
    }

    private static long RowsPerSecond(long rows, TimeSpan elapsed) =>
        elapsed.TotalSeconds > 0 ? (long)(rows / elapsed.TotalSeconds) : rows;

    [LoggerMessage(Level = LogLevel.Information, Message = "All {Clients} seeded clients exist ({Present} found); nothing to add")]
    private partial void LogNothingToAdd(int clients, int present);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Seeding {Missing} client(s) to reach {Clients} ({Present} already there, {TableRows} rows in the table); rebuild indexes: {Rebuild}; created_at up to {AsOf:yyyy-MM-dd}")]
    private partial void LogPlan(int clients, int present, int missing, long tableRows, bool rebuild, DateTime asOf);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped {Count} secondary index(es) for the load, to rebuild in the same transaction: {Indexes}")]
    private partial void LogDroppedIndexes(int count, string indexes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Copied {Written} of {Missing} client(s), {RowsPerSecond} rows/s")]
    private partial void LogProgress(long written, int missing, long rowsPerSecond);

    [LoggerMessage(Level = LogLevel.Information, Message = "Copied {Copied} client(s) in {Seconds:F1} s, {RowsPerSecond} rows/s")]
    private partial void LogCopied(long copied, double seconds, long rowsPerSecond);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rebuilt index {Index} in {Seconds:F1} s")]
    private partial void LogRebuiltIndex(string index, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded {Added} client(s), {Clients} seeded clients in all, in {Seconds:F1} s: {RowsPerSecond} rows/s overall")]
    private partial void LogSeeded(long added, int clients, double seconds, long rowsPerSecond);
}

/// <summary>Which ordinals 1..Clients are taken, how many are missing, and whether to rebuild the indexes.</summary>
internal sealed record LoadPlan(BitArray Taken, int Present, int Missing, long TableRows, bool Rebuild);

/// <summary>What one seeding did: how many seeded clients were wanted, already there and added.</summary>
public sealed record SeedOutcome(int Requested, int AlreadyPresent, long Added, IReadOnlyList<string> RebuiltIndexes, TimeSpan Elapsed);
