using System.Globalization;
using NexusCore.Migrator.Seeding;

namespace NexusCore.Migrator.Tests.Seeding;

[NoStack]
public sealed class ClientGeneratorTests
{
    private static readonly DateOnly AsOf = new(2025, 6, 30);

    [Fact]
    public void TheSameOrdinalGivesTheSameClientFromAnyGeneratorInAnyOrder()
    {
        var first = new ClientGenerator(AsOf);
        var second = new ClientGenerator(AsOf);

        var forwards = Enumerable.Range(1, 1_000).Select(n => first.Generate(n)).ToList();
        var backwards = Enumerable.Range(1, 1_000).Reverse().Select(n => second.Generate(n)).Reverse().ToList();

        Assert.Equal(forwards, backwards);
    }

    [Fact]
    public void AnotherAsOfDayMovesOnlyTheTimestamps()
    {
        var earlier = new ClientGenerator(AsOf).Generate(42);
        var later = new ClientGenerator(AsOf.AddDays(10)).Generate(42);

        Assert.Equal(earlier with { CreatedAt = later.CreatedAt, UpdatedAt = later.UpdatedAt }, later);
        Assert.Equal(TimeSpan.FromDays(10), later.CreatedAt - earlier.CreatedAt);
    }

    [Fact]
    public void TheFirstClientIsPinned()
    {
        // Changing the generator (or Bogus's name lists) changes every seeded database; this makes it deliberate.
        var client = new ClientGenerator(AsOf).Generate(1);

        Assert.Equal(
            ("Destinee Glover", "destinee.glover.1@seed.nexuscore.test", "active", "LONGEVITY", "2025-03-12T09:17:18.7303000Z", 1),
            (client.Name, client.Email, client.Status, client.ProgramType, client.CreatedAt.ToString("O", CultureInfo.InvariantCulture), client.Version));
        Assert.Equal(client.CreatedAt, client.UpdatedAt);
    }

    [Fact]
    public void TimestampsAreUtcMicrosecondsWithinTheTwoYearsAndUpdatesNeverPrecedeCreation()
    {
        var generator = new ClientGenerator(AsOf);
        var asOf = AsOf.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

        Assert.All(Enumerable.Range(1, 20_000).Select(n => generator.Generate(n)), c =>
        {
            Assert.Equal(DateTimeKind.Utc, c.CreatedAt.Kind);
            Assert.Equal(0, c.CreatedAt.Ticks % 10);
            Assert.Equal(0, c.UpdatedAt.Ticks % 10);
            Assert.InRange(c.CreatedAt, asOf - ClientGenerator.History, asOf);
            Assert.InRange(c.UpdatedAt, c.CreatedAt, asOf);
            Assert.InRange(c.Version, 1, 5);
        });
    }
}
