using System.ComponentModel.DataAnnotations;
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

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The roles: reader, writer and admin each include the ones below (admin ⊃ writer ⊃ reader);
/// ingest may only send telemetry to PerfApi's OTLP receiver, and only ingest may.
/// </summary>
public static class ApiRoles
{
    public const string Reader = "reader";
    public const string Writer = "writer";
    public const string Admin = "admin";
    public const string Ingest = "ingest";

    public static readonly IReadOnlyList<string> All = [Reader, Writer, Admin, Ingest];

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
/// API keys by name, each with a role: section <c>ApiKeys:Keys:&lt;name&gt;</c> with <c>Key</c> and
/// <c>Role</c>. The AppHost fills it from secret Aspire parameters; no key is ever in source.
/// </summary>
public sealed class ApiKeyOptions
{
    public const string Section = "ApiKeys";

    public Dictionary<string, ApiKeyEntry> Keys { get; init; } = new(StringComparer.Ordinal);
}

public sealed class ApiKeyEntry
{
    [Required, MinLength(16)]
    public string Key { get; init; } = "";

    [Required, AllowedValues(ApiRoles.Reader, ApiRoles.Writer, ApiRoles.Admin, ApiRoles.Ingest)]
    public string Role { get; init; } = "";
}

public static class ApiKeyAuthentication
{
    public const string Scheme = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    /// <summary>
    /// Authenticates callers by <c>X-Api-Key: &lt;key&gt;</c> or <c>Authorization: Bearer &lt;key&gt;</c>
    /// and gives them their key's roles. 401 and 403 answer with problem documents.
    /// </summary>
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.Section)
            .Validate(o => o.Keys.Values.All(k => k.Key.Length >= 16 && ApiRoles.All.Contains(k.Role)),
                "Every API key needs at least 16 characters and a role of reader, writer, admin or ingest.")
            .ValidateOnStart();
        services.AddSingleton<ApiKeyDigests>();
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Scheme, null);
        services.AddAuthorization();
        return services;
    }
}

/// <summary>
/// The configured keys' SHA-256 digests, computed once per configuration (again when it changes)
/// instead of once per key on every request.
/// </summary>
internal sealed class ApiKeyDigests(IOptionsMonitor<ApiKeyOptions> keys)
{
    internal sealed record KnownKey(string Name, string Role, byte[] Digest);

    private sealed record Snapshot(ApiKeyOptions Source, KnownKey[] Keys);

    private volatile Snapshot? _current;

    public IReadOnlyList<KnownKey> Current
    {
        get
        {
            var options = keys.CurrentValue;
            var current = _current;
            if (current is null || !ReferenceEquals(current.Source, options))
            {
                current = new Snapshot(options, options.Keys.Select(k => new KnownKey(k.Key, k.Value.Role, Digest(k.Value.Key))).ToArray());
                _current = current;
            }

            return current.Keys;
        }
    }

    public static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
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
        var presented = PresentedKey(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var presentedHash = ApiKeyDigests.Digest(presented);
        foreach (var known in keys.Current)
        {
            // Compare digests in constant time so response timing does not leak key prefixes.
            if (CryptographicOperations.FixedTimeEquals(presentedHash, known.Digest))
            {
                var claims = new List<Claim> { new(ClaimTypes.Name, known.Name) };
                claims.AddRange(ApiRoles.Granted(known.Role).Select(role => new Claim(ClaimTypes.Role, role)));
                var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyAuthentication.Scheme));
                return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, ApiKeyAuthentication.Scheme)));
            }
        }

        return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{ApiKeyAuthentication.Scheme} header=\"{ApiKeyAuthentication.HeaderName}\", Bearer";
        var invalid = PresentedKey(Request) is not null;
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

    private static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(ApiKeyAuthentication.HeaderName, out var header) && !string.IsNullOrEmpty(header))
        {
            return header.ToString();
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7
            ? authorization[7..].Trim()
            : null;
    }
}
