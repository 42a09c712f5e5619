using Aspire.Hosting.ApplicationModel;

namespace NexusCore.AppHost;

/// <summary>
/// One secret API key per role (<c>api-key-reader</c>, <c>api-key-writer</c>, <c>api-key-admin</c>, and
/// <c>api-key-ingest</c> for telemetry sent to PerfApi):
/// generated on first run and kept in the AppHost's user secrets, shown (masked) under the
/// dashboard's parameters, and passed to the services as <c>ApiKeys:Keys:&lt;role&gt;</c>.
/// </summary>
internal static class ApiKeysExtensions
{
    public static readonly string[] Roles = ["reader", "writer", "admin"];

    public const string IngestRole = "ingest";

    public static IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> AddApiKeys(this IDistributedApplicationBuilder builder) =>
        Roles.Append(IngestRole).ToDictionary(
            role => role,
            role => builder.AddParameter(
                $"api-key-{role}",
                new GenerateParameterDefault { MinLength = 32, Special = false },
                secret: true,
                persist: true));

    /// <summary>The reader, writer and admin keys a service accepts (and, with <paramref name="ingest"/>, the telemetry key).</summary>
    public static IResourceBuilder<T> WithApiKeys<T>(
        this IResourceBuilder<T> service, IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> keys, bool ingest = false)
        where T : IResourceWithEnvironment
    {
        foreach (var (role, key) in keys.Where(k => ingest || k.Key != IngestRole))
        {
            service.WithEnvironment($"ApiKeys__Keys__{role}__Key", key)
                .WithEnvironment($"ApiKeys__Keys__{role}__Role", role);
        }

        return service;
    }

    /// <summary>Makes <paramref name="service"/> export its traces and metrics to PerfApi too, with the ingest key.</summary>
    public static IResourceBuilder<T> WithTelemetryTo<T>(
        this IResourceBuilder<T> service, IResourceBuilder<ProjectResource> perfApi, IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> keys)
        where T : IResourceWithEnvironment =>
        service.WithEnvironment("NexusCore__Telemetry__PerfApiEndpoint", perfApi.GetEndpoint("http"))
            .WithEnvironment("NexusCore__Telemetry__PerfApiKey", keys[IngestRole]);
}
