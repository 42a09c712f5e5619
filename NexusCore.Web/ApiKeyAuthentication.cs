using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NexusCore.ServiceDefaults;

namespace NexusCore.Web;

/// <summary>
/// The roles: reader, writer and admin each include the ones below (admin ⊃ writer ⊃ reader);
/// ingest may only send telemetry to PerfApi's OTLP receiver, and only ingest may.
/// </summary>
public static class ApiRoles
{
    public const string Reader = ApiKeyRules.Reader;
    public const string Writer = ApiKeyRules.Writer;
    public const string Admin = ApiKeyRules.Admin;
    public const string Ingest = ApiKeyRules.Ingest;

    public static readonly IReadOnlyList<string> All = ApiKeyRules.Roles;

    /// <summary>The roles a key of <paramref name="role"/> holds.</summary>
    public static IReadOnlyList<string> Granted(string role) => role switch
    {
        Admin => [Admin, Writer, Reader],
        Writer => [Writer, Reader],
        Ingest => [Ingest],
        _ => [Reader],
    };
}

/// <summary>
/// The API keys a service accepts, by id: section <c>ApiKeys:Keys:&lt;id&gt;</c> with <c>Hash</c> (lower-case hex
/// SHA-256 of the key, see <see cref="ApiKeyRules.Hash"/>), <c>Role</c> and an optional <c>Label</c>. The AppHost
/// fills it from secret Aspire parameters; a service never holds a key itself, only its hash. A caller's
/// identity is its key's id: rate limits and idempotency scopes are per id.
/// </summary>
public sealed class ApiKeyOptions
{
    public const string Section = "ApiKeys";

    public Dictionary<string, ApiKeyEntry> Keys { get; init; } = new(StringComparer.Ordinal);
}

public sealed class ApiKeyEntry
{
    public string Hash { get; init; } = "";

    public string Role { get; init; } = "";

    /// <summary>For people (who holds the key, what for); never checked.</summary>
    public string? Label { get; init; }
}

/// <summary>
/// Refuses to start on a key entry that cannot be right, naming its id (never its hash): an id outside
/// <see cref="ApiKeyRules.IsValidId"/>, a hash that is not 64 hex digits, an unknown role, a label too long or with
/// control characters, two ids that differ only in letter case, two ids with the same key, or more than
/// <see cref="ApiKeyRules.MaxKeys"/> keys.
/// </summary>
internal sealed class ApiKeyOptionsValidator : IValidateOptions<ApiKeyOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiKeyOptions options)
    {
        var failures = new List<string>();
        if (options.Keys.Count > ApiKeyRules.MaxKeys)
        {
            failures.Add($"ApiKeys:Keys holds {options.Keys.Count} keys; at most {ApiKeyRules.MaxKeys} are allowed.");
        }

        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var hashes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, entry) in options.Keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (!ApiKeyRules.IsValidId(id))
            {
                // The id may be anything a configuration key can be: say what it must be, and show it only when it is printable and short.
                var shown = id.Length <= ApiKeyRules.MaxIdLength * 2 && !id.Any(char.IsControl) ? $"'{id}'" : "(unprintable or too long)";
                failures.Add($"API key id {shown} is not valid: lower-case letters and digits in groups joined by single hyphens, at most {ApiKeyRules.MaxIdLength} characters.");
                continue;
            }

            if (!ids.TryAdd(id, id))
            {
                failures.Add($"API key ids '{ids[id]}' and '{id}' differ only in letter case.");
            }

            if (!ApiKeyRules.IsValidHash(entry.Hash))
            {
                failures.Add($"API key '{id}': Hash must be the key's SHA-256 as {ApiKeyRules.HashLength} hex digits.");
            }
            else if (!hashes.TryAdd(entry.Hash, id))
            {
                failures.Add($"API keys '{hashes[entry.Hash]}' and '{id}' are the same key: each caller needs a key of its own.");
            }

            if (!ApiKeyRules.Roles.Contains(entry.Role, StringComparer.Ordinal))
            {
                failures.Add($"API key '{id}': Role must be one of {string.Join(", ", ApiKeyRules.Roles)}.");
            }

            if (entry.Label is { } label && !ApiKeyRules.IsValidLabel(label))
            {
                failures.Add($"API key '{id}': Label must be at most {ApiKeyRules.MaxLabelLength} characters, without control characters.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

public static class ApiKeyAuthentication
{
    public const string Scheme = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    /// <summary>
    /// Authenticates callers by <c>X-Api-Key: &lt;key&gt;</c> or <c>Authorization: Bearer &lt;key&gt;</c>
    /// and gives them their key's id as their name and their key's roles. 401 and 403 answer with problem documents.
    /// </summary>
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidator>();
        services.AddSingleton<ApiKeyDigests>();
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Scheme, null);
        services.AddAuthorization();
        return services;
    }

    /// <summary>
    /// The key the request presents (X-Api-Key first, else a Bearer token), or null. For a service that calls
    /// another on its caller's behalf with the caller's own key (PerfApi's cache clear and benchmark), so that it
    /// holds no key of its own.
    /// </summary>
    public static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header) && !string.IsNullOrEmpty(header))
        {
            return header.ToString();
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7
            ? authorization[7..].Trim()
            : null;
    }
}

/// <summary>
/// The configured keys' digests, decoded once per configuration (again when it changes) instead of on every request.
/// </summary>
public sealed class ApiKeyDigests(IOptionsMonitor<ApiKeyOptions> keys)
{
    /// <summary>A configured key: its digest, and the principal every request that presents it gets (built once).</summary>
    public sealed record KnownKey(string Id, string Role, byte[] Digest, ClaimsPrincipal Principal);

    /// <summary>
    /// The keys of one configuration, and the presented strings already proven to be one of them. Only
    /// strings that matched a key are remembered, so the map holds at most one entry per configured key
    /// (<see cref="ApiKeyRules.MaxKeys"/>); a reload (a key added or revoked) starts a new snapshot and
    /// forgets every verdict at once. A lookup that misses costs a string hash (randomized per process),
    /// then the digest comparison in constant time as before.
    /// </summary>
    private sealed record Snapshot(ApiKeyOptions Source, KnownKey[] Keys, ConcurrentDictionary<string, KnownKey> Verified);

    private volatile Snapshot? _current;

    private Snapshot Current
    {
        get
        {
            var options = keys.CurrentValue;
            var current = _current;
            if (current is null || !ReferenceEquals(current.Source, options))
            {
                current = new Snapshot(options, options.Keys.Select(k => Known(k.Key, k.Value.Role, k.Value.Hash)).ToArray(), new(StringComparer.Ordinal));
                _current = current;
            }

            return current;
        }
    }

    /// <summary>The key <paramref name="presented"/> is, or null. SHA-256 runs once per distinct valid key, not per request.</summary>
    public KnownKey? Find(string presented)
    {
        var snapshot = Current;
        if (snapshot.Verified.TryGetValue(presented, out var verified))
        {
            return verified;
        }

        var presentedHash = ApiKeyRules.Digest(presented);
        foreach (var known in snapshot.Keys)
        {
            // Compare digests in constant time so response timing does not leak key prefixes.
            if (CryptographicOperations.FixedTimeEquals(presentedHash, known.Digest))
            {
                snapshot.Verified.TryAdd(presented, known);
                return known;
            }
        }

        return null;
    }

    private static KnownKey Known(string id, string role, string hash)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, id) };
        claims.AddRange(ApiRoles.Granted(role).Select(granted => new Claim(ClaimTypes.Role, granted)));
        return new KnownKey(id, role, Convert.FromHexString(hash), new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyAuthentication.Scheme)));
    }
}

internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyDigests keys,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ApiKeyAuthentication.PresentedKey(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // One principal per key, shared by its requests: nothing downstream adds to it.
        if (keys.Find(presented) is { } known)
        {
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(known.Principal, ApiKeyAuthentication.Scheme)));
        }

        return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{ApiKeyAuthentication.Scheme} header=\"{ApiKeyAuthentication.HeaderName}\", Bearer";
        var invalid = ApiKeyAuthentication.PresentedKey(Request) is not null;
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = invalid
                    ? "The API key is not valid."
                    : $"An API key is required: send it in the {ApiKeyAuthentication.HeaderName} header or as a Bearer token.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Forbidden",
                Detail = "This API key's role does not allow this operation.",
            },
        });
    }
}
