using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace NexusCore.AppHost.Tests.ApiKeys;

/// <summary>
/// What the running stack's resources were given, read from each resource's environment as the orchestrator
/// reports it: hashes of the keys a service checks, never a key, but for the ingest key a service exports with.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ApiKeyEnvironmentTests(StackFixture stack)
{
    private static readonly string[] ClientsApiKeys = ["admin", "reader", StackFixture.SecondReaderKey, "writer", StackFixture.SecondWriterKey];

    private static readonly string[] AllKeys = [.. ClientsApiKeys, "ingest", StackFixture.RevokedKey];

    [Fact]
    public void NoResourceHoldsAKeyButClientsApiItsIngestKeyToExportTelemetryWith()
    {
        var keys = AllKeys.Select(stack.ApiKey).ToList();
        var holders = new List<string>();
        var resources = 0;
        foreach (var resource in stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Where(r => r is IResourceWithEnvironment))
        {
            var environment = Environment(resource.Name);
            resources += environment.Count > 0 ? 1 : 0;
            holders.AddRange(environment.Where(v => keys.Any(v.Value.Contains)).Select(v => $"{resource.Name}: {v.Name}").Distinct());
        }

        // clients-api, perf-api, the migrator and local mode's postgres and cache all reported their environment.
        Assert.True(resources >= 5, $"{resources} resources reported an environment");
        Assert.Equal(["clients-api: NexusCore__Telemetry__PerfApiKey"], holders);
        Assert.Equal([stack.ApiKey("ingest")], Environment("clients-api").Where(v => v.Name == "NexusCore__Telemetry__PerfApiKey").Select(v => v.Value).Distinct());
    }

    [Fact]
    public void TheDefaultKeysAreGeneratedRandomValuesOfAtLeast32Characters()
    {
        var defaults = new[] { "reader", "writer", "admin", "ingest" }.Select(stack.ApiKey).ToList();

        Assert.All(defaults, key => Assert.True(key.Length >= 32 && key.All(char.IsAsciiLetterOrDigit), $"a key of {key.Length} characters"));
        Assert.Equal(4, defaults.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void ClientsApiIsGivenTheHashRoleAndLabelOfEachKeyItChecksAndNoIngestOrRevokedKey()
    {
        var given = Keys("clients-api");

        Assert.Equal(Expected(ClientsApiKeys), given);
    }

    [Fact]
    public void PerfApiIsGivenTheIngestKeysHashTooButNoRevokedKey()
    {
        var given = Keys("perf-api");

        Assert.Equal(Expected([.. ClientsApiKeys, "ingest"]), given);
    }

    /// <summary>Every <c>ApiKeys__Keys__*</c> variable a service was given, sorted by name.</summary>
    private SortedDictionary<string, string> Keys(string resource) =>
        new(Environment(resource).Where(v => v.Name.StartsWith("ApiKeys__", StringComparison.Ordinal)).Distinct().ToDictionary(v => v.Name, v => v.Value), StringComparer.Ordinal);

    /// <summary>The variables the AppHost gives for <paramref name="ids"/>: the lower-case hex SHA-256 of each key, its role, and its label.</summary>
    private SortedDictionary<string, string> Expected(IEnumerable<string> ids)
    {
        var expected = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            expected[$"ApiKeys__Keys__{id}__Hash"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stack.ApiKey(id))));
            expected[$"ApiKeys__Keys__{id}__Role"] = id == StackFixture.SecondReaderKey ? "reader" : id == StackFixture.SecondWriterKey ? "writer" : id;
            expected[$"ApiKeys__Keys__{id}__Label"] = id switch
            {
                StackFixture.SecondReaderKey => StackFixture.SecondReaderLabel,
                "ingest" => "telemetry exporters' key",
                "reader" or "writer" or "admin" => $"default {id} key",
                _ => "",
            };
        }

        foreach (var unlabelled in expected.Where(v => v.Value.Length == 0).Select(v => v.Key).ToList())
        {
            expected.Remove(unlabelled);
        }

        return expected;
    }

    /// <summary>The resource's environment variables as its snapshot lists them (a name may be listed twice: as specified and as in effect).</summary>
    private List<(string Name, string Value)> Environment(string resource) =>
        stack.App.ResourceNotifications.TryGetCurrentState(resource, out var state)
            ? [.. state.Snapshot.EnvironmentVariables.Where(v => v.Value is not null).Select(v => (v.Name, v.Value!))]
            : [];
}
