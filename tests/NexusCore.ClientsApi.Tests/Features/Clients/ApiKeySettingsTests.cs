using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Extensions;
using NexusCore.Web;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>
/// The API key entries (<c>ApiKeys:Keys:&lt;id&gt;</c>) as ClientsApi registers them (NexusCore.Web's defaults, then its own services) and validates them
/// at start (no stack needed): a bad entry stops the service with a message naming the key's id, never its hash.
/// </summary>
[NoStack]
public sealed class ApiKeySettingsTests
{
    private static readonly string HashA = new('a', 64);
    private static readonly string HashB = new('b', 64);

    [Fact]
    public void GoodEntriesStartAndAreReadAsConfigured()
    {
        using var services = Build(("partner-a", HashA, "reader", "Partner A's reporting job"), ("ops", HashB, "admin", null));

        services.GetRequiredService<IStartupValidator>().Validate();

        var keys = services.GetRequiredService<IOptions<ApiKeyOptions>>().Value.Keys;
        Assert.Equal(["ops", "partner-a"], keys.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((HashA, "reader", "Partner A's reporting job"), (keys["partner-a"].Hash, keys["partner-a"].Role, keys["partner-a"].Label));
    }

    public static TheoryData<string, string, string, string> BadEntries => new()
    {
        { "short-hash", new string('a', 63), "reader", "Hash must be the key's SHA-256 as 64 hex digits" },
        { "not-hex", new string('g', 64), "reader", "Hash must be the key's SHA-256 as 64 hex digits" },
        { "the-key-itself", "k8Jd0qLw2ZxV4nB7mC1pR5tY9sE3uH6a", "reader", "Hash must be the key's SHA-256 as 64 hex digits" },
        { "superuser", HashA, "root", "Role must be one of reader, writer, admin, ingest" },
        { "no-role", HashA, "", "Role must be one of reader, writer, admin, ingest" },
    };

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void ABadEntryStopsTheStartNamingItsIdButNotItsHash(string id, string hash, string role, string reason)
    {
        using var services = Build((id, hash, role, null), ("fine", HashB, "reader", null));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        var failure = Assert.Single(error.Failures);
        Assert.Equal($"API key '{id}': {reason}.", failure);
        Assert.DoesNotContain(hash.Length > 0 ? hash : "\0", error.Message);
    }

    [Theory]
    [InlineData("Reader")]
    [InlineData("a_b")]
    [InlineData("-a")]
    [InlineData("a--b")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    public void AnIdOutsideTheSafeCharactersOrLongerThan32IsRefused(string id)
    {
        using var services = Build((id, HashA, "reader", null));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.StartsWith($"API key id '{id}' is not valid", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void TwoIdsWithTheSameKeyAreRefusedNamingBoth()
    {
        using var services = Build(("first", HashA, "reader", null), ("second", HashA.ToUpperInvariant(), "admin", null));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("API keys 'first' and 'second' are the same key: each caller needs a key of its own.", Assert.Single(error.Failures));
    }

    [Fact]
    public void ALabelWithControlCharactersIsRefused()
    {
        using var services = Build(("labelled", HashA, "reader", "line\nbreak"));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("API key 'labelled': Label must be at most 100 characters, without control characters.", Assert.Single(error.Failures));
    }

    [Fact]
    public void MoreThan100KeysAreRefused()
    {
        var entries = Enumerable.Range(0, 101).Select(i => ($"key-{i}", i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture), "reader", (string?)null)).ToArray();
        using var services = Build(entries);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("ApiKeys:Keys holds 101 keys; at most 100 are allowed.", Assert.Single(error.Failures));
    }

    private static ServiceProvider Build(params (string Id, string Hash, string Role, string? Label)[] keys)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = "Host=127.0.0.1;Database=unused";
        builder.Configuration["ConnectionStrings:cache"] = "127.0.0.1:1,abortConnect=false";
        builder.Configuration["Cursors:SigningKey"] = new string('s', 64);
        foreach (var (id, hash, role, label) in keys)
        {
            builder.Configuration[$"ApiKeys:Keys:{id}:Hash"] = hash;
            builder.Configuration[$"ApiKeys:Keys:{id}:Role"] = role;
            builder.Configuration[$"ApiKeys:Keys:{id}:Label"] = label;
        }

        builder.AddWebDefaults();
        builder.AddApplicationServices();
        return builder.Services.BuildServiceProvider();
    }
}
