using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using NexusCore.Web;

namespace NexusCore.AppHost;

/// <summary>An API key: its id (the caller's identity), role, optional label, and its value as a secret parameter.</summary>
internal sealed record ApiKey(string Id, string Role, string? Label, IResourceBuilder<ParameterResource> Value)
{
    /// <summary>The key's value, checked to be as long as a key must be; errors name the id, never the value.</summary>
    public async Task<string> ValueAsync(CancellationToken ct)
    {
        var value = await Value.Resource.GetValueAsync(ct);
        return ApiKeysExtensions.CheckValue(Id, value) is { } error ? throw new InvalidOperationException(error) : value!;
    }
}

/// <summary>The keys the services accept (revoked ones are not among them).</summary>
internal sealed class ApiKeys(IReadOnlyList<ApiKey> keys)
{
    public IReadOnlyList<ApiKey> All => keys;

    /// <summary>The key exporters send telemetry to PerfApi with: <c>ingest</c>, unless it is revoked.</summary>
    public ApiKey? Telemetry => keys.FirstOrDefault(k => k.Id == ApiKeysExtensions.TelemetryKeyId);
}

/// <summary>
/// API keys, any number, one per caller, from configuration section <c>NexusCore:ApiKeys:&lt;id&gt;</c> with
/// <c>Role</c> (reader, writer, admin or ingest), optional <c>Label</c> and <c>Revoked</c>. Each key's value is the
/// secret parameter <c>api-key-&lt;id&gt;</c>: given in configuration (<c>Parameters:api-key-&lt;id&gt;</c>, at least
/// 32 characters), else generated on first run and kept in the AppHost's user secrets, shown (masked) under the
/// dashboard's parameters. Four keys always exist unless revoked, so <c>./run.sh</c> needs no set-up:
/// <c>reader</c>, <c>writer</c>, <c>admin</c> and <c>ingest</c>, each of the role of its name.
/// Services receive each key's hash (<c>ApiKeys:Keys:&lt;id&gt;:Hash</c>), role and label, never the key; a
/// revoked key is given to no service, so it is refused (401) while the others keep working.
/// </summary>
internal static class ApiKeysExtensions
{
    public const string Section = "NexusCore:ApiKeys";

    public const string IngestRole = ApiKeyRules.Ingest;

    public const string TelemetryKeyId = "ingest";

    /// <summary>The default keys: id, role (fixed) and label (configurable).</summary>
    public static readonly IReadOnlyList<(string Id, string Role, string Label)> Defaults =
    [
        ("reader", ApiKeyRules.Reader, "default reader key"),
        ("writer", ApiKeyRules.Writer, "default writer key"),
        ("admin", ApiKeyRules.Admin, "default admin key"),
        ("ingest", ApiKeyRules.Ingest, "telemetry exporters' key"),
    ];

    private static readonly string[] Settings = ["Role", "Label", "Revoked"];

    public static string ParameterName(string id) => $"api-key-{id}";

    /// <summary>Declares a secret parameter per key that is not revoked; refuses, naming each bad entry, a configuration that cannot be right.</summary>
    public static ApiKeys AddApiKeys(this IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration.GetSection(Section).GetChildren().ToDictionary(s => s.Key, StringComparer.OrdinalIgnoreCase);
        var ids = Defaults.Select(d => d.Id).Concat(configured.Keys.Order(StringComparer.Ordinal)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var errors = new List<string>();
        var keys = new List<ApiKey>();
        foreach (var id in ids)
        {
            if (!ApiKeyRules.IsValidId(id))
            {
                errors.Add($"API key id '{id}' ({Section}:{id}) is not valid: lower-case letters and digits in groups joined by single hyphens, at most {ApiKeyRules.MaxIdLength} characters.");
                continue;
            }

            var section = configured.GetValueOrDefault(id);
            var entry = Entry(id, section, builder.Configuration[$"Parameters:{ParameterName(id)}"], errors);
            if (entry is { Revoked: false })
            {
                var parameter = builder.AddParameter(ParameterName(id), new GenerateParameterDefault { MinLength = ApiKeyRules.MinKeyLength, Special = false }, secret: true, persist: true);
                if (entry.Value.Label is { Length: > 0 } label)
                {
                    parameter.WithDescription($"API key '{id}' ({entry.Value.Role}): {label}");
                }

                keys.Add(new ApiKey(id, entry.Value.Role, entry.Value.Label, parameter));
            }
        }

        if (keys.Count > ApiKeyRules.MaxKeys)
        {
            errors.Add($"{keys.Count} API keys are configured; at most {ApiKeyRules.MaxKeys} are allowed.");
        }

        return errors.Count == 0
            ? new ApiKeys(keys)
            : throw new InvalidOperationException($"The API key configuration ({Section}) is not valid:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", errors)}");
    }

    private static (string Role, string? Label, bool Revoked)? Entry(string id, IConfigurationSection? section, string? givenValue, List<string> errors)
    {
        var errorCount = errors.Count;
        var fixedRole = Defaults.FirstOrDefault(d => d.Id == id).Role;
        foreach (var unknown in section?.GetChildren().Select(c => c.Key).Where(k => !Settings.Contains(k, StringComparer.OrdinalIgnoreCase)) ?? [])
        {
            errors.Add($"API key '{id}': unknown setting '{unknown}' (known: {string.Join(", ", Settings)}).");
        }

        var role = section?["Role"] ?? fixedRole;
        if (role is null || !ApiKeyRules.Roles.Contains(role, StringComparer.Ordinal))
        {
            errors.Add($"API key '{id}': {Section}:{id}:Role must be one of {string.Join(", ", ApiKeyRules.Roles)}.");
        }
        else if (fixedRole is not null && role != fixedRole)
        {
            errors.Add($"API key '{id}' is a default key of role {fixedRole}; its role cannot change (add a key of another id).");
        }

        var label = section?["Label"] ?? Defaults.FirstOrDefault(d => d.Id == id).Label;
        if (label is not null && !ApiKeyRules.IsValidLabel(label))
        {
            errors.Add($"API key '{id}': Label must be at most {ApiKeyRules.MaxLabelLength} characters, without control characters.");
        }

        var revoked = false;
        if (section?["Revoked"] is { } revokedText && !bool.TryParse(revokedText, out revoked))
        {
            errors.Add($"API key '{id}': Revoked must be true or false.");
        }

        if (!revoked && givenValue is not null && CheckValue(id, givenValue) is { } valueError)
        {
            errors.Add(valueError);
        }

        return errors.Count == errorCount ? (role!, label, revoked) : null;
    }

    /// <summary>Why a key's value cannot be used, or null. Names the id only.</summary>
    public static string? CheckValue(string id, string? value) =>
        value is not null && ApiKeyRules.IsValidKey(value)
            ? null
            : $"API key '{id}': its value (parameter {ParameterName(id)}) must be a random value of {ApiKeyRules.MinKeyLength} to {ApiKeyRules.MaxKeyLength} visible ASCII characters.";

    /// <summary>
    /// The hashes, roles and labels of the keys a service accepts: every key but the telemetry (ingest-role) ones,
    /// and those too with <paramref name="ingest"/> (PerfApi's OTLP receiver). A hash is computed here at run time
    /// from the parameter's value, so the value itself never reaches the service's environment.
    /// </summary>
    public static IResourceBuilder<T> WithApiKeys<T>(this IResourceBuilder<T> service, ApiKeys keys, bool ingest = false)
        where T : IResourceWithEnvironment
    {
        foreach (var key in keys.All.Where(k => ingest || k.Role != IngestRole))
        {
            var prefix = $"ApiKeys__Keys__{key.Id}__";
            service.WithEnvironment(prefix + "Role", key.Role);
            if (key.Label is { Length: > 0 } label)
            {
                service.WithEnvironment(prefix + "Label", label);
            }

            service.WithEnvironment(async context =>
            {
                if (context.ExecutionContext.IsPublishMode)
                {
                    // A manifest would hold the hash of a value generated now, not the deployment's key.
                    throw new NotSupportedException("API key hashes are computed from the keys' values at run time; publishing is not supported.");
                }

                context.EnvironmentVariables[prefix + "Hash"] = ApiKeyRules.Hash(await key.ValueAsync(context.CancellationToken));
            });
        }

        return service;
    }

    /// <summary>
    /// Makes <paramref name="service"/> export its traces and metrics to PerfApi too, with the <c>ingest</c> key
    /// itself (the one key a service holds: it presents it, PerfApi checks its hash). With that key revoked, the
    /// service exports to the dashboard only.
    /// </summary>
    public static IResourceBuilder<T> WithTelemetryTo<T>(this IResourceBuilder<T> service, IResourceBuilder<ProjectResource> perfApi, ApiKeys keys)
        where T : IResourceWithEnvironment
    {
        if (keys.Telemetry is not { } ingestKey)
        {
            Console.WriteLine($"NexusCore: API key '{TelemetryKeyId}' is revoked; {service.Resource.Name} exports telemetry to the dashboard only, not to {perfApi.Resource.Name}.");
            return service;
        }

        return service.WithEnvironment("NexusCore__Telemetry__PerfApiEndpoint", perfApi.GetEndpoint("http"))
            .WithEnvironment("NexusCore__Telemetry__PerfApiKey", ingestKey.Value);
    }
}
