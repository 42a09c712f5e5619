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
    /// once is several times cheaper than maintaining it row by row (measured: 1M rows in about 35 s
    /// instead of about 65 s with the V0004 index set). Smaller loads copy into the indexes as they are
    /// and do not block readers.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int RebuildIndexesFrom { get; set; } = 100_000;

    /// <summary><c>maintenance_work_mem</c> for the load's transaction: index builds sort in memory up to it.</summary>
    [RegularExpression("^[0-9]{1,7}(kB|MB|GB)$")]
    public string MaintenanceWorkMem { get; set; } = "1GB";

    /// <summary>A progress line every this many copied rows.</summary>
    [Range(1, int.MaxValue)]
    public int ProgressEvery { get; set; } = 100_000;
}
