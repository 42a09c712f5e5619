using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace NexusCore.AppHost.Tests.ApiKeys;

/// <summary>The API keys the AppHost declares from its configuration (<c>NexusCore:ApiKeys</c>), built without starting anything.</summary>
public sealed class ApiKeyConfigurationTests
{
    [Fact]
    public async Task TheFourDefaultKeysAndAConfiguredOneAreSecretParametersGeneratedWhenNotGiven()
    {
        var resources = await ResourcesAsync("--NexusCore:ApiKeys:partner-a:Role", "reader", "--NexusCore:ApiKeys:partner-a:Label", "Partner A's reporting job");

        var keys = resources.OfType<ParameterResource>().Where(p => p.Name.StartsWith("api-key-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["api-key-admin", "api-key-ingest", "api-key-partner-a", "api-key-reader", "api-key-writer"], keys.Select(k => k.Name).Order(StringComparer.Ordinal));
        // Secret, and with a default: generated when not given (32 letters and digits, as the running stack's
        // keys show: ApiKeyEnvironmentTests), then kept in the AppHost's user secrets.
        Assert.All(keys, key => Assert.True(key.Secret && key.Default is not null, key.Name));
        Assert.Equal("API key 'partner-a' (reader): Partner A's reporting job", keys.Single(k => k.Name == "api-key-partner-a").Description);
    }

    [Fact]
    public async Task ARevokedKeyHasNoParameter()
    {
        var resources = await ResourcesAsync("--NexusCore:ApiKeys:writer:Revoked", "true");

        var keys = resources.OfType<ParameterResource>().Select(p => p.Name).Where(n => n.StartsWith("api-key-", StringComparison.Ordinal));
        Assert.Equal(["api-key-admin", "api-key-ingest", "api-key-reader"], keys.Order(StringComparer.Ordinal));
    }

    /// <summary>Arguments, the message expected, and a key value that must not appear in it.</summary>
    public static TheoryData<string[], string, string?> BadConfigurations => new()
    {
        { ["--NexusCore:ApiKeys:Partner_A:Role", "reader"], "API key id 'Partner_A' (NexusCore:ApiKeys:Partner_A) is not valid", null },
        { ["--NexusCore:ApiKeys:partner-a:Role", "root"], "API key 'partner-a': NexusCore:ApiKeys:partner-a:Role must be one of reader, writer, admin, ingest.", null },
        { ["--NexusCore:ApiKeys:partner-a:Label", "no role"], "API key 'partner-a': NexusCore:ApiKeys:partner-a:Role must be one of reader, writer, admin, ingest.", null },
        { ["--NexusCore:ApiKeys:reader:Role", "admin"], "API key 'reader' is a default key of role reader; its role cannot change", null },
        { ["--NexusCore:ApiKeys:partner-a:Role", "reader", "--NexusCore:ApiKeys:partner-a:Rol", "admin"], "API key 'partner-a': unknown setting 'Rol'", null },
        { ["--NexusCore:ApiKeys:partner-a:Role", "reader", "--NexusCore:ApiKeys:partner-a:Revoked", "soon"], "API key 'partner-a': Revoked must be true or false.", null },
        { ["--NexusCore:ApiKeys:partner-a:Role", "reader", "--Parameters:api-key-partner-a", "Short7Value"], "API key 'partner-a': its value (parameter api-key-partner-a) must be a random value of 32 to 512 visible ASCII characters.", "Short7Value" },
        { ["--NexusCore:ApiKeys:partner-a:Role", "reader", "--Parameters:api-key-partner-a", "Long enough but with spaces 0123456789"], "API key 'partner-a': its value (parameter api-key-partner-a) must be a random value of 32 to 512 visible ASCII characters.", "Long enough but with spaces" },
        { ["--NexusCore:ApiKeys:partner-a:Role", "reader", "--Parameters:api-key-partner-a", "Schlüssel0123456789012345678901234567"], "API key 'partner-a': its value (parameter api-key-partner-a) must be a random value of 32 to 512 visible ASCII characters.", "Schlüssel" },
        { ["--Parameters:api-key-admin", "AdminTooShort9"], "API key 'admin': its value (parameter api-key-admin) must be a random value of 32 to 512 visible ASCII characters.", "AdminTooShort9" },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public async Task AConfigurationThatCannotBeRightStopsTheAppHostNamingTheKeyButNotItsValue(string[] args, string message, string? value)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ResourcesAsync(args));

        var text = error.ToString();
        Assert.Contains(message, text, StringComparison.Ordinal);
        if (value is not null)
        {
            Assert.DoesNotContain(value, text, StringComparison.Ordinal);
        }
    }

    private static async Task<IReadOnlyList<IResource>> ResourcesAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.NexusCore_AppHost>(["--infra", "local", .. args], timeout.Token);
        return builder.Resources.ToList();
    }
}
