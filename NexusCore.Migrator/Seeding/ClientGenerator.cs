using System.Globalization;
using Bogus;

namespace NexusCore.Migrator.Seeding;

/// <summary>One seeded client; <see cref="Ordinal"/> is the n in its email.</summary>
public readonly record struct SeedClient(
    long Ordinal,
    string Name,
    string Email,
    string Status,
    string ProgramType,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Version);

/// <summary>
/// Makes the n-th seeded client. Every field is a pure function of n (and of the as-of day for the
/// timestamps), so a rerun, a partial rerun or another database gets the same client for the same n,
/// and any subset of ordinals can be generated without the others.
/// </summary>
/// <remarks>
/// Bogus picks names once, from a fixed seed, into pools; each row then combines pool entries with a
/// counter-based PRNG keyed by n. Asking Bogus per row was six times slower (measured) and would make
/// row n depend on every row generated before it.
/// </remarks>
public sealed class ClientGenerator
{
    /// <summary>Every seeded email ends with "@" and this domain; no real mail can reach it.</summary>
    public const string EmailDomain = "seed.nexuscore.test";

    /// <summary>The fixed seed: of Bogus's name pools and of the per-row PRNG.</summary>
    public const int Seed = 20_240_601;

    /// <summary>created_at runs this far back from the as-of day.</summary>
    public static readonly TimeSpan History = TimeSpan.FromDays(730);

    private const int PoolSize = 4096;

    private static readonly Lazy<NamePools> Pools = new(NamePools.Build);

    private readonly DateTime _asOf;

    public ClientGenerator(DateOnly asOf)
    {
        _asOf = asOf.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
    }

    public DateTime AsOf => _asOf;

    public SeedClient Generate(long ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ordinal, 1);
        var pools = Pools.Value;
        var random = new SplitMix64(unchecked((ulong)Seed * 0xD1B54A32D192ED03UL ^ (ulong)ordinal));

        var first = (int)(random.Next() % PoolSize);
        var last = (int)(random.Next() % PoolSize);

        // Status mix: 70% active, 20% inactive, 10% pending.
        var statusRoll = random.Next() % 100;
        var status = statusRoll < 70 ? "active" : statusRoll < 90 ? "inactive" : "pending";

        // Program mix: 45% PRIME, 35% LONGEVITY, 20% PERFORMANCE.
        var programRoll = random.Next() % 100;
        var programType = programRoll < 45 ? "PRIME" : programRoll < 80 ? "LONGEVITY" : "PERFORMANCE";

        // Sign-ups grow linearly over the two years (the latest day has three times the first day's),
        // sampled by inverting the CDF (t + t²) / 2; t = 1 is the as-of day's midnight.
        var t = (Math.Sqrt(1 + 8 * random.NextDouble()) - 1) / 2;
        var createdAt = _asOf - Microseconds(History.Ticks * (1 - t));

        // Four in ten clients were never edited; the others were edited 1 to 4 times since.
        DateTime updatedAt;
        int version;
        if (random.Next() % 100 < 40)
        {
            updatedAt = createdAt;
            version = 1;
        }
        else
        {
            updatedAt = createdAt + Microseconds((_asOf - createdAt).Ticks * random.NextDouble());
            version = 2 + (int)(random.Next() % 4);
        }

        return new SeedClient(
            ordinal,
            pools.FirstNames[first] + " " + pools.LastNames[last],
            string.Concat(pools.EmailFirst[first], ".", pools.EmailLast[last], ".", ordinal.ToString(CultureInfo.InvariantCulture), "@", EmailDomain),
            status,
            programType,
            createdAt,
            updatedAt,
            version);
    }

    // PostgreSQL keeps microseconds; rounding here makes a read-back value equal the generated one.
    private static TimeSpan Microseconds(double ticks) => TimeSpan.FromTicks((long)ticks / 10 * 10);

    private static string EmailPart(string name)
    {
        var part = new string(name.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).ToArray());
        return part.Length == 0 ? "client" : part;
    }

    private sealed record NamePools(string[] FirstNames, string[] LastNames, string[] EmailFirst, string[] EmailLast)
    {
        public static NamePools Build()
        {
            var names = new Bogus.DataSets.Name("en") { Random = new Randomizer(Seed) };
            var first = new string[PoolSize];
            var last = new string[PoolSize];
            for (var i = 0; i < PoolSize; i++)
            {
                first[i] = names.FirstName();
                last[i] = names.LastName();
            }

            return new NamePools(first, last, first.Select(EmailPart).ToArray(), last.Select(EmailPart).ToArray());
        }
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and well mixed, so a per-row state is cheap.</summary>
    private struct SplitMix64(ulong key)
    {
        private ulong _state = Mix(key);

        public ulong Next()
        {
            _state += 0x9E3779B97F4A7C15UL;
            return Mix(_state);
        }

        /// <summary>Uniform in [0, 1).</summary>
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        private static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
