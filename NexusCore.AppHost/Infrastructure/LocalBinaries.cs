using Microsoft.Extensions.Configuration;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>The PostgreSQL and Redis executables local mode runs, and what could not be found.</summary>
public sealed record LocalBinaries(string? PostgresBinDir, string? RedisServer, IReadOnlyList<string> Missing)
{
    // PostgreSQL 15 first: it is the version the product is built and tested against.
    private static readonly string[] PreferredPostgresVersions = ["15", "16", "17", "14"];

    public string Postgres => Path.Combine(PostgresBinDir ?? throw new InvalidOperationException("PostgreSQL was not found."), "postgres");

    public string InitDb => Path.Combine(PostgresBinDir ?? throw new InvalidOperationException("PostgreSQL was not found."), "initdb");

    public static LocalBinaries Find(IConfiguration configuration)
    {
        var missing = new List<string>();

        var pgBin = FindPostgresBinDir(configuration["NexusCore:Local:PostgresBinDir"]);
        if (pgBin is null)
        {
            missing.Add("PostgreSQL 15 server (postgres and initdb), Debian package postgresql-15");
        }

        var redis = FindRedisServer(configuration["NexusCore:Local:RedisServer"]);
        if (redis is null)
        {
            missing.Add("redis-server, Debian package redis-server");
        }

        return new LocalBinaries(pgBin, redis, missing);
    }

    private static string? FindPostgresBinDir(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return HasPostgres(configured) ? configured : null;
        }

        foreach (var version in PreferredPostgresVersions)
        {
            var dir = $"/usr/lib/postgresql/{version}/bin";
            if (HasPostgres(dir))
            {
                return dir;
            }
        }

        return SearchPath("postgres") is { } onPath && HasPostgres(Path.GetDirectoryName(onPath)!)
            ? Path.GetDirectoryName(onPath)
            : null;

        static bool HasPostgres(string dir) =>
            File.Exists(Path.Combine(dir, "postgres")) && File.Exists(Path.Combine(dir, "initdb"));
    }

    private static string? FindRedisServer(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        return SearchPath("redis-server");
    }

    private static string? SearchPath(string executable)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/usr/bin").Append("/usr/local/bin")
            .Select(dir => Path.Combine(dir, executable))
            .FirstOrDefault(File.Exists);
    }
}
