using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Console.Pages;
using NexusCore.PerfApi.Integrations;

namespace NexusCore.PerfApi.Console;

/// <summary>
/// The console's routes: server-rendered pages (Razor components returned as <see cref="RazorComponentResult"/>,
/// static rendering, no script), its one stylesheet, sign-in and sign-out, and the admin actions, each a form POST
/// checked for its antiforgery token.
/// </summary>
internal static class ConsoleRoutes
{
    public const string Root = "/console";
    public const string SignIn = "/console/sign-in";
    public const string SignOut = "/console/sign-out";
    public const string Forbidden = "/console/forbidden";
    public const string Stylesheet = "/console/console.css";

    /// <summary>The sign-in form's largest key: longer is no key at all (keys are a few dozen characters).</summary>
    public const int MaxKeyLength = 512;

    public static void AddConsole(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents();
        builder.Services.AddConsoleAuthentication();
        builder.Services.AddSingleton<ConsoleData>();
    }

    public static void MapConsole(this IEndpointRouteBuilder app)
    {
        var reader = app.MapGroup(Root).RequireAuthorization(ConsoleAuthentication.ReaderPolicy).ExcludeFromDescription();
        reader.MapGet("", async (HttpContext http, ConsoleData data, string? window, CancellationToken ct) =>
            Page<Overview>(http, new { Model = await data.OverviewAsync(ConsoleWindow.Parse(window), ct) }));
        reader.MapGet("/queries", (HttpContext http, ConsoleData data, string? window) =>
            Page<Queries>(http, new { Model = data.Queries(ConsoleWindow.Parse(window)) }));
        reader.MapGet("/query", async (HttpContext http, ConsoleData data, string? window, string? service, string? table, string? operation, string? type, CancellationToken ct) =>
            Page<QueryDetail>(http, new { Model = await data.QueryAsync(ConsoleWindow.Parse(window), service, table, operation, type, ct) }));
        reader.MapGet("/slow-queries", async (HttpContext http, ConsoleData data, string? window, CancellationToken ct) =>
            Page<SlowQueries>(http, new { Model = await data.SlowQueriesAsync(ConsoleWindow.Parse(window), ct) }));
        reader.MapGet("/alerts", (HttpContext http, ConsoleData data) => Page<Alerts>(http, new { Model = data.Alerts() }));
        reader.MapGet("/cache", (HttpContext http, ConsoleData data, string? window, string? cleared) =>
            Page<Cache>(http, new { Model = data.Cache(ConsoleWindow.Parse(window), cleared) }));
        reader.MapGet("/indexes", async (HttpContext http, ConsoleData data, CancellationToken ct) =>
            Page<Indexes>(http, new { Model = await data.IndexesAsync(ct) }));
        reader.MapGet("/indexes/applications/{id}", async (HttpContext http, IndexApplier applier, string id, CancellationToken ct) =>
            await applier.ReadAsync(id, ct) is { } application
                ? Page<IndexApplication>(http, new { Model = application })
                : Results.NotFound());

        var admin = app.MapGroup(Root).RequireAuthorization(ConsoleAuthentication.AdminPolicy).ExcludeFromDescription();
        admin.MapPost("/indexes/{id}/apply", ApplyAsync);
        admin.MapPost("/cache/clear", ClearCacheAsync);

        var open = app.MapGroup(Root).AllowAnonymous().ExcludeFromDescription();
        open.MapGet("/console.css", () => Results.Text(ConsoleStyles.Css, "text/css; charset=utf-8"))
            .CacheOutputless();
        open.MapGet("/sign-in", (HttpContext http, IAntiforgery antiforgery, string? returnUrl) =>
            Page<SignInPage>(http, new { ReturnUrl = LocalReturn(returnUrl), Error = (string?)null, Form = antiforgery.GetAndStoreTokens(http) }));
        open.MapPost("/sign-in", SignInAsync);
        open.MapPost("/sign-out", SignOutAsync);
        open.MapGet("/forbidden", (HttpContext http) => Page<ForbiddenPage>(http, new { }));
    }

    private static RazorComponentResult Page<TComponent>(HttpContext http, object parameters)
        where TComponent : Microsoft.AspNetCore.Components.IComponent
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in parameters.GetType().GetProperties())
        {
            values[property.Name] = property.GetValue(parameters);
        }

        values["Viewer"] = ViewerOf(http);
        // No cache: the pages show figures of now and who is signed in.
        http.Response.Headers.CacheControl = "no-store";
        return new RazorComponentResult<TComponent>(values);
    }

    private static Viewer? ViewerOf(HttpContext http)
    {
        var user = http.User;
        if (user.Identity is not { IsAuthenticated: true, AuthenticationType: ConsoleAuthentication.Scheme })
        {
            return null;
        }

        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        return new Viewer(user.Identity.Name ?? "", user.IsInRole(ApiRoles.Admin), tokens.RequestToken ?? "", tokens.FormFieldName);
    }

    /// <summary>A return path inside the console, or the overview: never another site (no open redirect).</summary>
    private static string LocalReturn(string? returnUrl) =>
        returnUrl is { Length: > 0 and < 512 } path && path.StartsWith(Root, StringComparison.Ordinal) && !path.StartsWith("//", StringComparison.Ordinal)
            && !path.Contains('\\') && Uri.IsWellFormedUriString(path, UriKind.Relative)
            ? path
            : Root;

    private static async Task<IResult> SignInAsync(HttpContext http, IAntiforgery antiforgery, ConsoleKeys keys)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Refused("The form has expired or did not come from this console: reload the sign-in page.");
        }

        var form = await http.Request.ReadFormAsync();
        var returnUrl = LocalReturn(form["returnUrl"]);
        var key = form["key"].ToString();
        var principal = key.Length is > 0 and <= MaxKeyLength ? keys.SignIn(key) : null;
        if (principal is null)
        {
            // Which part was wrong is not said; the key is never echoed back.
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page<SignInPage>(http, new { ReturnUrl = returnUrl, Error = (string?)"That key is not a reader or admin key of this stack.", Form = antiforgery.GetAndStoreTokens(http) });
        }

        await http.SignInAsync(ConsoleAuthentication.Scheme, principal, new AuthenticationProperties { IsPersistent = false });
        return Results.Redirect(returnUrl);
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery)
    {
        // The form's token was issued to the signed-in user: check it as that user (this route has no policy that sets it).
        if (await http.AuthenticateAsync(ConsoleAuthentication.Scheme) is { Succeeded: true } signedIn)
        {
            http.User = signedIn.Principal;
        }

        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Refused("The form did not come from this console.");
        }

        await http.SignOutAsync(ConsoleAuthentication.Scheme);
        return Results.Redirect(SignIn);
    }

    private static async Task<IResult> ApplyAsync(HttpContext http, IAntiforgery antiforgery, IndexApplier applier, IndexAdvisor advisor, string id, CancellationToken ct)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Refused("The form did not come from this console.");
        }

        var (refusal, applicationId) = await applier.StartAsync(id, advisor.Options.LockTimeout, ct);
        switch (refusal)
        {
            case ApplyRefusal.NotFound:
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, detail: "No current recommendation has this id: an index may already serve it.",
                    extensions: new Dictionary<string, object?> { ["code"] = "recommendation_not_found" });
            case ApplyRefusal.Busy:
                return applicationId is null
                    ? Results.Problem(statusCode: StatusCodes.Status409Conflict, detail: "Another index is being built.", extensions: new Dictionary<string, object?> { ["code"] = "index_build_running" })
                    : Results.Redirect($"{Root}/indexes/applications/{applicationId}");
        }

        // The page of the application shows the build's progress (it reloads itself while building) and then the result.
        await applier.WaitAsync(applicationId!, advisor.Options.ApplyWait, ct);
        return Results.Redirect($"{Root}/indexes/applications/{applicationId}", permanent: false, preserveMethod: false);
    }

    private static async Task<IResult> ClearCacheAsync(HttpContext http, IAntiforgery antiforgery, ClientsApiClient clientsApi, CancellationToken ct)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Refused("The form did not come from this console.");
        }

        // ClientsApi checks its own callers: the admin types their key for this one call (PerfApi keeps none, the cookie holds none).
        var form = await http.Request.ReadFormAsync(ct);
        var key = form["key"].ToString();
        if (key.Length is 0 or > MaxKeyLength)
        {
            return Results.Redirect($"{Root}/cache?cleared=key_missing");
        }

        var result = await clientsApi.ClearCacheAsync(key, ct);
        var outcome = result.Outcome switch
        {
            ClientsApiOutcome.Succeeded => "ok",
            ClientsApiOutcome.Failed => "refused",
            _ => "unavailable",
        };
        return Results.Redirect($"{Root}/cache?cleared={outcome}");
    }

    private static IResult Refused(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Antiforgery check failed", detail: detail,
            extensions: new Dictionary<string, object?> { ["code"] = "antiforgery_invalid" });

    private static RouteHandlerBuilder CacheOutputless(this RouteHandlerBuilder route) =>
        route.AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers.CacheControl = "public, max-age=3600";
            return await next(context);
        });
}
