using System.Text.RegularExpressions;
using Npgsql;
using NexusCore.Migrator.Seeding;

namespace NexusCore.Migrator.Tests.Seeding;

[Collection(PostgresCollection.Name)]
public sealed partial class ClientSeederTests(PostgresOnly postgres)
{
    [Fact]
    public async Task SeedingTenThousandGivesTenThousandValidClientsInThePlannedMix()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);

        var outcome = await SeedDatabase.SeedAsync(db, 10_000);
        var clients = await SeedDatabase.SeededClientsAsync(db);

        Assert.Equal((10_000, 0, 10_000L), (outcome.Requested, outcome.AlreadyPresent, outcome.Added));
        Assert.Empty(outcome.RebuiltIndexes);
        Assert.Equal(10_000L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM clients"));
        Assert.Equal(Enumerable.Range(1, 10_000).Select(n => (long)n), clients.Select(c => c.Ordinal));
        Assert.Equal(10_000, clients.Select(c => c.Email.ToLowerInvariant()).Distinct().Count());

        var oldest = SeedDatabase.AsOf.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) - ClientGenerator.History;
        var newest = SeedDatabase.AsOf.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        Assert.All(clients, c =>
        {
            Assert.InRange(c.Name.Length, 1, 200);
            Assert.InRange(c.Email.Length, 3, 254);
            Assert.Matches(SeededEmail(), c.Email);
            Assert.StartsWith(LettersAndDigits(c.Name[..c.Name.LastIndexOf(' ')]) + "." + LettersAndDigits(c.Name[(c.Name.LastIndexOf(' ') + 1)..]) + ".", c.Email);
            Assert.InRange(c.CreatedAt, oldest, newest);
            Assert.InRange(c.UpdatedAt, c.CreatedAt, newest);
            Assert.Equal(c.UpdatedAt == c.CreatedAt, c.Version == 1);
        });

        AssertShare(clients, c => c.Status == "active", 0.70);
        AssertShare(clients, c => c.Status == "inactive", 0.20);
        AssertShare(clients, c => c.Status == "pending", 0.10);
        AssertShare(clients, c => c.ProgramType == "PRIME", 0.45);
        AssertShare(clients, c => c.ProgramType == "LONGEVITY", 0.35);
        AssertShare(clients, c => c.ProgramType == "PERFORMANCE", 0.20);
        // Sign-ups grow linearly, so the later year holds 1 − F(½) = 1 − (½ + ¼) / 2 = 5/8 of them.
        AssertShare(clients, c => c.CreatedAt >= newest - ClientGenerator.History / 2, 0.625);
        // Names come from Bogus pools, not a handful of strings.
        Assert.True(clients.Select(c => c.Name).Distinct().Count() > 5_000, "Expected varied names.");
    }

    [Fact]
    public async Task SeedingAgainWithTheSameOrALowerCountAddsNothing()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        await SeedDatabase.SeedAsync(db, 10_000);
        var before = await SeedDatabase.SeededClientsAsync(db);

        var same = await SeedDatabase.SeedAsync(db, 10_000);
        var lower = await SeedDatabase.SeedAsync(db, 4_000);

        Assert.Equal((10_000, 0L), (same.AlreadyPresent, same.Added));
        Assert.Equal((4_000, 0L), (lower.AlreadyPresent, lower.Added));
        Assert.Equal(10_000L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM clients"));
        Assert.Equal(before, await SeedDatabase.SeededClientsAsync(db));
    }

    [Fact]
    public async Task SeedingAHigherCountAddsOnlyTheDifference()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        await SeedDatabase.SeedAsync(db, 10_000);
        var before = await SeedDatabase.SeededClientsAsync(db);

        var outcome = await SeedDatabase.SeedAsync(db, 12_000);
        var after = await SeedDatabase.SeededClientsAsync(db);

        Assert.Equal((10_000, 2_000L), (outcome.AlreadyPresent, outcome.Added));
        Assert.Equal(12_000L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM clients"));
        Assert.Equal(before, after.Take(10_000));
        Assert.Equal(Enumerable.Range(10_001, 2_000).Select(n => (long)n), after.Skip(10_000).Select(c => c.Ordinal));
    }

    [Fact]
    public async Task TheSameOrdinalIsTheSameClientInEveryDatabaseAndEveryLoad()
    {
        var inOneLoad = await SeedDatabase.MigratedAsync(postgres);
        var inTwoLoads = await SeedDatabase.MigratedAsync(postgres);
        var generator = new ClientGenerator(SeedDatabase.AsOf);

        await SeedDatabase.SeedAsync(inOneLoad, 3_000);
        await SeedDatabase.SeedAsync(inTwoLoads, 1_000);
        await SeedDatabase.SeedAsync(inTwoLoads, 3_000);

        var expected = Enumerable.Range(1, 3_000).Select(n => generator.Generate(n)).ToList();
        Assert.Equal(expected, await SeedDatabase.SeededClientsAsync(inOneLoad));
        Assert.Equal(expected, await SeedDatabase.SeededClientsAsync(inTwoLoads));
    }

    [Fact]
    public async Task AMissingSeededClientIsAddedBackAndNoOtherIs()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        await SeedDatabase.SeedAsync(db, 1_000);
        await SeedDatabase.ExecuteAsync(db, "DELETE FROM clients WHERE email LIKE '%.500@seed.nexuscore.test'");

        var outcome = await SeedDatabase.SeedAsync(db, 1_000);

        Assert.Equal((999, 1L), (outcome.AlreadyPresent, outcome.Added));
        Assert.Equal(new ClientGenerator(SeedDatabase.AsOf).Generate(500), (await SeedDatabase.SeededClientsAsync(db))[499]);
    }

    [Fact]
    public async Task SeededEmailsNeverCollideWithClientsAlreadyThereInAnyLetterCase()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        var third = new ClientGenerator(SeedDatabase.AsOf).Generate(3);
        await SeedDatabase.ExecuteAsync(db, $"""
            INSERT INTO clients (name, email, program_type) VALUES
                ('Someone Else', '{third.Email.ToUpperInvariant()}', 'PRIME'),
                ('Another Person', 'ANOTHER.PERSON.7@Seed.NexusCore.Test', 'PRIME'),
                ('Real Client', 'real.client@example.com', 'LONGEVITY')
            """);

        var outcome = await SeedDatabase.SeedAsync(db, 10);

        Assert.Equal((2, 8L), (outcome.AlreadyPresent, outcome.Added));
        Assert.Equal(11L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM clients"));
        Assert.Equal(10L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM clients WHERE lower(email) LIKE '%@seed.nexuscore.test'"));
    }

    [Theory]
    [InlineData(100_000)] // copies into the indexes
    [InlineData(1)] // drops and rebuilds them
    public async Task StatementTriggersSeeEverySeededRow(int rebuildIndexesFrom)
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        await SeedDatabase.ExecuteAsync(db, """
            CREATE TABLE inserted_counts (rows bigint NOT NULL);
            CREATE FUNCTION count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO inserted_counts SELECT count(*) FROM new_rows;
                RETURN NULL;
            END;
            $$;
            CREATE TRIGGER count_inserted AFTER INSERT ON clients
                REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_inserted();
            """);

        await SeedDatabase.SeedAsync(db, 10_000, rebuildIndexesFrom);
        await SeedDatabase.SeedAsync(db, 12_000, rebuildIndexesFrom);

        Assert.Equal(12_000m, await SeedDatabase.ScalarAsync<decimal>(db, "SELECT sum(rows) FROM inserted_counts"));
        // One COPY statement per load that added rows.
        Assert.Equal(2L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM inserted_counts"));
    }

    [Fact]
    public async Task ALoadThatRebuildsIndexesLeavesEveryIndexAsItWas()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        await SeedDatabase.ExecuteAsync(db, """
            CREATE INDEX ix_test_pending_created ON clients (created_at) WHERE status = 'pending';
            COMMENT ON INDEX ix_test_pending_created IS 'kept by the seeder';
            """);
        var before = await SeedDatabase.IndexesAsync(db);

        var outcome = await SeedDatabase.SeedAsync(db, 5_000, rebuildIndexesFrom: 1);

        Assert.Equal(5_000L, outcome.Added);
        Assert.Contains("public.ix_test_pending_created", outcome.RebuiltIndexes);
        Assert.Contains("public.ux_clients_email_lower", outcome.RebuiltIndexes);
        Assert.DoesNotContain("public.clients_pkey", outcome.RebuiltIndexes);
        Assert.Equal(before, await SeedDatabase.IndexesAsync(db));
        Assert.Contains(before, i => i.Contains("comment=kept by the seeder", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFailedLoadAddsNoClientAndKeepsEveryIndex()
    {
        var db = await SeedDatabase.MigratedAsync(postgres);
        await SeedDatabase.ExecuteAsync(db, """
            CREATE FUNCTION refuse_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'refused';
            END;
            $$;
            CREATE TRIGGER refuse_inserts AFTER INSERT ON clients FOR EACH STATEMENT EXECUTE FUNCTION refuse_inserts();
            """);
        var before = await SeedDatabase.IndexesAsync(db);

        var error = await Assert.ThrowsAsync<PostgresException>(() => SeedDatabase.SeedAsync(db, 5_000, rebuildIndexesFrom: 1));

        Assert.Equal("refused", error.MessageText);
        Assert.Equal(0L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM clients"));
        Assert.Equal(before, await SeedDatabase.IndexesAsync(db));
    }

    private static void AssertShare(List<SeedClient> clients, Func<SeedClient, bool> predicate, double expected)
    {
        // 10,000 draws: a standard deviation of at most 0.5 percentage point; 2 points is four of them.
        var share = (double)clients.Count(predicate) / clients.Count;
        Assert.InRange(share, expected - 0.02, expected + 0.02);
    }

    private static string LettersAndDigits(string name) => new(name.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).ToArray());

    [GeneratedRegex(@"^[a-z0-9]+\.[a-z0-9]+\.[1-9][0-9]*@seed\.nexuscore\.test$")]
    private static partial Regex SeededEmail();
}
