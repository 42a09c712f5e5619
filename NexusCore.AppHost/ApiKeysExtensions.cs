using Aspire.Hosting.ApplicationModel;

namespace NexusCore.AppHost;

/// <summary>
/// One secret API key per role (<c>api-key-reader</c>, <c>api-key-writer</c>, <c>api-key-admin</c>):
/// generated on first run and kept in the AppHost's user secrets, shown (masked) under the
/// dashboard's parameters, and passed to the services as <c>ApiKeys:Keys:&lt;role&gt;</c>.
/// </summary>
internal static class ApiKeysExtensions
{
    public static readonly string[] Roles = ["reader", "writer", "admin"];

    public static IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> AddApiKeys(this IDistributedApplicationBuilder builder) =>
        Roles.ToDictionary(
            role => role,
            role => builder.AddParameter(
                $"api-key-{role}",
                new GenerateParameterDefault { MinLength = 32, Special = false },
                secret: true,
                persist: true));

    public static IResourceBuilder<T> WithApiKeys<T>(
        this IResourceBuilder<T> service, IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> keys)
        where T : IResourceWithEnvironment
    {
        foreach (var (role, key) in keys)
        {
            service.WithEnvironment($"ApiKeys__Keys__{role}__Key", key)
                .WithEnvironment($"ApiKeys__Keys__{role}__Role", role);
        }

        return service;
    }
}
