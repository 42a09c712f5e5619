using System.ComponentModel.DataAnnotations;

namespace NexusCore.Migrator.Seeding;

/// <summary>How <c>seed</c> loads clients (configuration section <c>Seed</c>; the command line overrides it).</summary>
public sealed class SeedOptions
{
    public const string Section = "Seed";
    public const int MaxClients = 50_000_000;

    /// <summary>Seeded clients wanted: the load makes seeded clients 1..Clients exist.</summary>
    [Range(1, MaxClients)]
    public int Clients { get; set; } = 10_000;

    /// <summary>
    /// UTC day the seeded <c>created_at</c> values run up to (two years back from its midnight).
    /// Unset means today; fix it to reproduce timestamps exactly on another day.
    /// </summary>
    public DateOnly? AsOf { get; set; }

    /// <summary>
    /// A load of at least this many rows that also at least doubles the table drops the table's plain
    /// secondary indexes, copies, and rebuilds them, all in the load's transaction: building an index
    /// once beats maintaining it row by row (1M rows with the V0004 indexes, measured side by side on
    /// the same busy 2-core machine: 59 s against 74 s). Smaller loads copy into the indexes as they
    /// are and leave readers alone.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int RebuildIndexesFrom { get; set; } = 100_000;

    /// <summary>
    /// <c>maintenance_work_mem</c> for the load's transaction: B-tree builds sort in memory up to it.
    /// Not more: GIN builds measured no faster with 1GB, and often slower.
    /// </summary>
    [RegularExpression("^[0-9]{1,7}(kB|MB|GB)$")]
    public string MaintenanceWorkMem { get; set; } = "512MB";

    /// <summary>A progress line every this many copied rows.</summary>
    [Range(1, int.MaxValue)]
    public int ProgressEvery { get; set; } = 100_000;
}
