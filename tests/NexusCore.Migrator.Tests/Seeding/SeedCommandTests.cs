using NexusCore.Migrator.Migrations;

namespace NexusCore.Migrator.Tests.Seeding;

[Collection(PostgresCollection.Name)]
public sealed class SeedCommandTests(PostgresOnly postgres)
{
    [Theory]
    [InlineData("Unknown command 'frobnicate'.", "frobnicate")]
    [InlineData("Unknown argument '--client' for 'seed'.", "seed", "--client", "10")]
    [InlineData("'--clients' must be a whole number from 1 to 50000000; got 'many'.", "seed", "--clients", "many")]
    public async Task ABadArgumentExitsTwoWithTheReasonAndTheUsageAndNoStackTrace(string reason, params string[] args)
    {
        var run = await MigratorProcess.RunAsync(args);

        Assert.True(run.ExitCode == 2, run.Output);
        Assert.StartsWith(reason, run.Output);
        Assert.Contains("Usage: NexusCore.Migrator [migrate]", run.Output);
        Assert.DoesNotContain("   at ", run.Output);
        Assert.DoesNotContain("Exception", run.Output);
    }

    [Fact]
    public async Task AnInvalidSeedSettingExitsTwoNamingIt()
    {
        var run = await MigratorProcess.RunAsync(
            ["seed", "--clients", "10"],
            new Dictionary<string, string>
            {
                ["ConnectionStrings__clientsdb"] = "Host=127.0.0.1;Port=1;Database=none",
                ["Seed__MaintenanceWorkMem"] = "lots",
            });

        Assert.True(run.ExitCode == 2, run.Output);
        Assert.Contains("MaintenanceWorkMem", run.Output);
        Assert.DoesNotContain("   at ", run.Output);
    }

    [Fact]
    public async Task SeedMigratesAnEmptyDatabaseThenSeedsAndARerunAddsNothing()
    {
        var db = await postgres.NewDatabaseAsync();
        var environment = new Dictionary<string, string> { ["ConnectionStrings__clientsdb"] = db };

        var first = await MigratorProcess.RunAsync(["seed", "--clients", "2500"], environment);
        var second = await MigratorProcess.RunAsync(["seed", "--clients=2500"], environment);

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("Applied", first.Output);
        Assert.Contains("Seeded 2500 client(s)", first.Output);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("up to date", second.Output);
        Assert.Contains("All 2500 seeded clients exist", second.Output);
        Assert.Equal(2_500L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM clients"));
        Assert.Equal(
            MigrationRunner.EmbeddedScripts().Count,
            (int)await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM public.schema_migrations"));
    }

    [Fact]
    public async Task MigrateStillOnlyMigrates()
    {
        var db = await postgres.NewDatabaseAsync();

        var run = await MigratorProcess.RunAsync(["migrate"], new Dictionary<string, string> { ["ConnectionStrings__clientsdb"] = db });

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("Applied", run.Output);
        Assert.DoesNotContain("ClientSeeder", run.Output);
        Assert.Equal(0L, await SeedDatabase.ScalarAsync<long>(db, "SELECT count(*) FROM clients"));
    }
}
