namespace NexusCore.Migrator.Tests.Seeding;

[NoStack]
public sealed class CommandLineTests
{
    [Theory]
    [InlineData]
    [InlineData("migrate")]
    public void NoArgumentsOrMigrateMeanMigrate(params string[] args)
    {
        Assert.Equal(new MigratorCommand.Migrate(), MigratorCommand.Parse(args));
    }

    [Theory]
    [InlineData(new[] { "seed" }, null, null)]
    [InlineData(new[] { "seed", "--clients", "1000000" }, 1_000_000, null)]
    [InlineData(new[] { "seed", "--clients=12000", "--as-of", "2025-06-30" }, 12_000, "2025-06-30")]
    [InlineData(new[] { "seed", "--as-of=2024-02-29", "--clients", "1" }, 1, "2024-02-29")]
    public void SeedReadsItsOptionsInAnyOrderAndForm(string[] args, int? clients, string? asOf)
    {
        var expected = new MigratorCommand.Seed(clients, asOf is null ? null : DateOnly.Parse(asOf, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(expected, MigratorCommand.Parse(args));
    }

    [Theory]
    [InlineData("Unknown command 'seeds'.", "seeds")]
    [InlineData("Unknown command '--clients'.", "--clients", "5")]
    [InlineData("'migrate' takes no arguments; got '--clients'.", "migrate", "--clients", "5")]
    [InlineData("Unknown argument '--client' for 'seed'.", "seed", "--client", "5")]
    [InlineData("'--clients' needs a value.", "seed", "--clients")]
    [InlineData("'--clients' must be a whole number from 1 to 50000000; got '0'.", "seed", "--clients", "0")]
    [InlineData("'--clients' must be a whole number from 1 to 50000000; got '-5'.", "seed", "--clients", "-5")]
    [InlineData("'--clients' must be a whole number from 1 to 50000000; got '1e6'.", "seed", "--clients", "1e6")]
    [InlineData("'--clients' must be a whole number from 1 to 50000000; got '50000001'.", "seed", "--clients", "50000001")]
    [InlineData("'--clients' is given twice.", "seed", "--clients", "5", "--clients=6")]
    [InlineData("'--as-of' must be a date as yyyy-MM-dd; got '30/06/2025'.", "seed", "--as-of", "30/06/2025")]
    public void AnythingElseIsAUsageErrorThatSaysWhat(string error, params string[] args)
    {
        Assert.Equal(new MigratorCommand.Invalid(error), MigratorCommand.Parse(args));
    }

    [Fact]
    public void CommandLineOptionsBecomeSeedConfigurationKeys()
    {
        var seed = new MigratorCommand.Seed(1_000_000, new DateOnly(2025, 6, 30));

        Assert.Equal(
            [new("Seed:Clients", "1000000"), new("Seed:AsOf", "2025-06-30")],
            seed.AsConfiguration().ToList());
    }
}
