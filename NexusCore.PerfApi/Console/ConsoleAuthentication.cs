using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;

namespace NexusCore.PerfApi.Console;

/// <summary>
/// How a person signs in to the console: the API key is typed once into the sign-in form (a POST body, never a
/// URL), checked against the configured keys' hashes as the API's own authentication checks it, and forgotten at
/// once. What the browser keeps is a cookie PerfApi issues (ASP.NET Core cookie authentication, encrypted and
/// signed with data protection) that carries the key's id and role, never the key: HttpOnly (no script reads
/// it), SameSite=Strict (no other site's page sends it) and ending with the browser session or after
/// <see cref="Lifetime"/>. Signing out deletes it. Readers see every page; actions need an admin key.
/// </summary>
internal static class ConsoleAuthentication
{
    public const string Scheme = "NexusCore.Console";
    public const string CookieName = "nexuscore_console";
    public const string ReaderPolicy = "console-reader";
    public const string AdminPolicy = "console-admin";

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public static void AddConsoleAuthentication(this IServiceCollection services)
    {
        // Not the default scheme: the API's routes still authenticate by key only, and the console's by cookie only.
        services.AddAuthentication().AddCookie(Scheme, options =>
        {
            options.Cookie.Name = CookieName;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.Cookie.Path = ConsoleRoutes.Root;
            options.ExpireTimeSpan = Lifetime;
            options.SlidingExpiration = false;
            options.LoginPath = ConsoleRoutes.SignIn;
            options.AccessDeniedPath = ConsoleRoutes.Forbidden;
            // The sign-in page is told where to go back to, a console path (checked there), never a key.
            options.ReturnUrlParameter = "returnUrl";
        });

        services.AddAuthorizationBuilder()
            .AddPolicy(ReaderPolicy, policy => policy.AddAuthenticationSchemes(Scheme).RequireRole(ApiRoles.Reader))
            .AddPolicy(AdminPolicy, policy => policy.AddAuthenticationSchemes(Scheme).RequireRole(ApiRoles.Admin));

        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "nexuscore_console_antiforgery";
            options.Cookie.Path = ConsoleRoutes.Root;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.FormFieldName = "__antiforgery";
        });
        services.AddSingleton<ConsoleKeys>();
    }
}

/// <summary>
/// Checks a key typed into the sign-in form through the API's own key lookup (<see cref="ApiKeyDigests"/>: the same
/// hashes, compared in constant time), so the console and the API can never disagree on what a key is.
/// </summary>
internal sealed class ConsoleKeys(ApiKeyDigests keys)
{
    /// <summary>The principal a valid reader or admin key signs in as (its id and granted roles), or null.</summary>
    public ClaimsPrincipal? SignIn(string presented)
    {
        var known = keys.Find(presented);
        if (known is null || !known.Principal.IsInRole(ApiRoles.Reader))
        {
            return null;
        }

        return new ClaimsPrincipal(new ClaimsIdentity(known.Principal.Claims, ConsoleAuthentication.Scheme));
    }
}

/// <summary>What a page needs to know about who is looking.</summary>
public sealed record Viewer(string KeyId, bool IsAdmin, string AntiforgeryToken, string AntiforgeryField);
