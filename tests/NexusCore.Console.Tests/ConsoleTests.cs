using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using NexusCore.Console.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace NexusCore.Console.Tests;

/// <summary>The operator's console (issue 28) through a real browser against the running stack.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleTests(ConsoleStack stack, BrowserFixture browser, ITestOutputHelper output)
{
    private static readonly string[] Pages =
        ["/console", "/console/queries", "/console/slow-queries", "/console/alerts", "/console/indexes", "/console/cache"];

    private async Task<BrowserSession> SignedInAsync(string keyId)
    {
        var session = await browser.NewSessionAsync(stack.PerfApi);
        await session.Page.GotoAsync("/console");
        await session.Page.GetByLabel("API key").FillAsync(stack.ApiKey(keyId));
        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(session.Page.GetByRole(AriaRole.Heading, new() { Name = "Overview", Exact = true })).ToBeVisibleAsync();
        return session;
    }

    [Fact]
    public async Task SignInKeepsOnlyAnHttpOnlyStrictCookieWithoutTheKeyAndSignOutForgetsIt()
    {
        var key = stack.ApiKey("reader");
        await using var session = await browser.NewSessionAsync(stack.PerfApi);

        // Not signed in: every page sends the browser to the sign-in form.
        await session.Page.GotoAsync("/console/queries");
        Assert.StartsWith(stack.PerfApi + "console/sign-in", session.Page.Url, StringComparison.Ordinal);

        // A wrong key is refused, and not shown back.
        await session.Page.GetByLabel("API key").FillAsync("not-a-key-" + Guid.NewGuid());
        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(session.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not a reader or admin key");

        await session.Page.GetByLabel("API key").FillAsync(key);
        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(session.Page.GetByRole(AriaRole.Heading, new() { Name = "Queries", Exact = true })).ToBeVisibleAsync();
        await session.ScreenshotAsync("queries-after-sign-in");

        // The key is in no URL the browser visited or requested, not in the page, not in any cookie.
        Assert.DoesNotContain(session.Requests, url => url.Contains(key, StringComparison.Ordinal));
        Assert.DoesNotContain(key, await session.Page.ContentAsync(), StringComparison.Ordinal);
        var history = await session.Page.EvaluateAsync<int>("history.length");
        Assert.True(history >= 1);
        var cookies = await session.Context.CookiesAsync();
        var console = Assert.Single(cookies, c => c.Name == "nexuscore_console");
        Assert.True(console.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, console.SameSite);
        Assert.DoesNotContain(cookies, c => c.Value.Contains(key, StringComparison.Ordinal));
        Assert.Empty(await session.Page.EvaluateAsync<string>("document.cookie"));

        // A reader is not an admin: the admin's actions are not offered and a POST is refused.
        await session.Page.GotoAsync("/console/cache");
        Assert.Equal(0, await session.Page.GetByRole(AriaRole.Button, new() { Name = "Clear the ClientsApi cache" }).CountAsync());

        // Signing out deletes the cookie: the next page asks for a key again.
        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(session.Page.GetByLabel("API key")).ToBeVisibleAsync();
        Assert.DoesNotContain(await session.Context.CookiesAsync(), c => c.Name == "nexuscore_console");
        await session.Page.GotoAsync("/console");
        Assert.StartsWith(stack.PerfApi + "console/sign-in", session.Page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueriesPageShowsTheAnalyticsRouteFiguresAndTheOverviewChartHasPoints()
    {
        using var clients = stack.CreateClient("clients-api", "reader");
        using var perf = stack.CreateClient("perf-api", "reader");
        for (var i = 0; i < 40; i++)
        {
            using var response = await clients.GetAsync("/api/v1/clients?limit=10");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await using var session = await SignedInAsync("reader");
        (string Type, long Count, string P95) expected = default;
        await Eventually.ThatAsync(async () =>
        {
            // Read the route, then the page, then the route again: equal when no new telemetry arrived in between.
            var before = await FirstSeriesAsync(perf);
            if (before is null)
            {
                return false;
            }

            await session.Page.GotoAsync("/console/queries?window=5m");
            var row = session.Page.Locator($"tr[data-query-type='{before.Value.Type}'][data-service='{before.Value.Service}']").First;
            if (await row.CountAsync() == 0)
            {
                return false;
            }

            var count = await row.Locator("[data-figure=count]").InnerTextAsync();
            var p95 = await row.Locator("[data-figure=p95]").InnerTextAsync();
            var after = await FirstSeriesAsync(perf);
            expected = (before.Value.Type, before.Value.Count, before.Value.P95);
            return after == before && count == before.Value.Count.ToString(CultureInfo.InvariantCulture) && p95 == before.Value.P95;
        }, TimeSpan.FromSeconds(90), "the queries page showing the analytics route's count and p95", TimeSpan.FromSeconds(2));
        output.WriteLine($"queries page = analytics route: {expected.Type} count {expected.Count}, p95 {expected.P95}");
        await session.ScreenshotAsync("queries");

        // The overview's status is health/details' status, and its query chart has points for the traffic.
        await session.Page.GotoAsync("/console?window=5m");
        using var details = JsonDocument.Parse(await perf.GetStringAsync("/api/v1/performance/health/details"));
        Assert.Equal(details.RootElement.GetProperty("status").GetString(), await session.Page.Locator("[data-figure=status]").InnerTextAsync());
        var points = session.Page.Locator("figure.chart").First.Locator("circle.point");
        Assert.True(await points.CountAsync() > 0, "the queries-per-second chart has no point");
        var values = await points.EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('data-value'))");
        Assert.Contains(values, v => double.Parse(v, CultureInfo.InvariantCulture) > 0);
        Assert.Contains("UTC", await points.First.Locator("title").TextContentAsync() ?? "", StringComparison.Ordinal);
        await session.ScreenshotAsync("overview");
    }

    private static async Task<(string Service, string Type, long Count, string P95)?> FirstSeriesAsync(HttpClient perf)
    {
        using var analytics = JsonDocument.Parse(await perf.GetStringAsync("/api/v1/performance/analytics?window=5m"));
        var series = analytics.RootElement.GetProperty("series").EnumerateArray()
            .FirstOrDefault(s => s.GetProperty("service").GetString() == "clients-api");
        if (series.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var p95 = series.GetProperty("p95Ms") is { ValueKind: JsonValueKind.Number } value ? value.GetDouble().ToString("0.##", CultureInfo.InvariantCulture) + " ms" : "–";
        return (series.GetProperty("service").GetString()!, series.GetProperty("queryType").GetString()!, series.GetProperty("count").GetInt64(), p95);
    }

    [Fact]
    public async Task EveryPageIsAccessibleLightFastAndLoadsNothingFromAnotherHost()
    {
        await using var session = await SignedInAsync("admin");
        var cookie = (await session.Context.CookiesAsync()).Single(c => c.Name == "nexuscore_console");
        using var http = new HttpClient { BaseAddress = stack.PerfApi };
        http.DefaultRequestHeaders.Add("Cookie", $"{cookie.Name}={cookie.Value}");

        foreach (var path in Pages)
        {
            var response = await session.Page.GotoAsync(path);
            Assert.Equal(200, response!.Status);
            await session.ScreenshotAsync("page" + path.Replace('/', '-'));

            var axe = await session.Page.RunAxe();
            var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
            Assert.True(serious.Count == 0, $"{path}: " + string.Join("; ", serious.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")));

            // Page weight: the document and everything it loaded (the stylesheet), uncompressed.
            var weight = 0L;
            foreach (var url in session.Requests.Where(u => u.StartsWith(stack.PerfApi + path.TrimStart('/'), StringComparison.Ordinal) || u.EndsWith("console.css", StringComparison.Ordinal)).Distinct())
            {
                weight += (await http.GetByteArrayAsync(url)).Length;
            }

            // Server time: 30 reads of the page with the session's cookie, one at a time.
            var times = new List<double>();
            for (var i = 0; i < 30; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var page = await http.GetAsync(path);
                await page.Content.ReadAsByteArrayAsync();
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            times.Sort();
            var p95 = times[(int)Math.Ceiling(0.95 * times.Count) - 1];
            output.WriteLine($"Console page {path}: weight {weight / 1024.0:0.0} KB, server time p50 {times[times.Count / 2]:0.0} ms, p95 {p95:0.0} ms (30 sequential reads)");
            Assert.True(weight <= 300 * 1024, $"{path} weighs {weight} bytes");
        }

        Assert.Empty(session.ForeignRequests);
    }

    [Fact]
    public async Task AnAdminAppliesAdvisedIndexAndSeesTheResultWhileAReaderCannot()
    {
        var table = $"console_apply_{Guid.NewGuid().ToString("N")[..8]}";
        await using (var create = stack.ClientsDb.CreateCommand($"""
            CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, lookup bigint NOT NULL, pad text NOT NULL);
            INSERT INTO {table} (lookup, pad) SELECT (g::bigint * 7919) % 1000003, repeat('x', 60) FROM generate_series(1, 200000) g;
            ALTER TABLE {table} OWNER TO nexuscore_clients_owner;
            GRANT SELECT ON {table} TO nexuscore_advisor, nexuscore_clients_api;
            ANALYZE {table};
            """))
        {
            await create.ExecuteNonQueryAsync();
        }

        try
        {
            // The application's role runs a lookup that no index serves.
            await RunLookupsAsync(table, 12);

            using var perf = stack.CreateClient("perf-api", "reader");
            string? id = null;
            await Eventually.ThatAsync(async () =>
            {
                using var advice = JsonDocument.Parse(await perf.GetStringAsync("/api/v1/performance/indexes?refresh=true"));
                id = advice.RootElement.GetProperty("recommendations").EnumerateArray()
                    .Where(r => r.GetProperty("table").GetString() == table)
                    .Select(r => r.GetProperty("id").GetString()).FirstOrDefault();
                return id is not null;
            }, TimeSpan.FromSeconds(90), $"advice for {table}.lookup", TimeSpan.FromSeconds(6));

            // A reader sees the advice, with its proof, but no Apply; a POST from the reader's session is refused.
            await using (var reader = await SignedInAsync("reader"))
            {
                await reader.Page.GotoAsync("/console/indexes");
                var article = reader.Page.Locator($"article[data-recommendation='{id}']");
                await Assertions.Expect(article).ToBeVisibleAsync();
                Assert.Equal(0, await article.GetByRole(AriaRole.Button).CountAsync());
                var forged = await reader.Context.APIRequest.PostAsync($"/console/indexes/{id}/apply", new() { MaxRedirects = 0 });
                Assert.Equal(302, forged.Status);
                Assert.EndsWith("/console/forbidden", new Uri(stack.PerfApi, forged.Headers["location"]).AbsolutePath, StringComparison.Ordinal);
            }

            await using var admin = await SignedInAsync("admin");

            // A cross-site (tokenless) POST with the admin's cookie is refused by the antiforgery check.
            var tokenless = await admin.Context.APIRequest.PostAsync($"/console/indexes/{id}/apply", new() { Form = admin.Context.APIRequest.CreateFormData(), MaxRedirects = 0 });
            Assert.Equal(400, tokenless.Status);
            Assert.Contains("antiforgery_invalid", await tokenless.TextAsync(), StringComparison.Ordinal);
            Assert.Equal(0, await IndexCountAsync(table));

            await admin.Page.GotoAsync("/console/indexes");
            await admin.Page.Locator($"article[data-recommendation='{id}']").GetByRole(AriaRole.Button).ClickAsync();
            await Assertions.Expect(admin.Page.Locator("[data-figure=status]")).ToContainTextAsync("Built in", new() { Timeout = 120_000 });
            Assert.Equal(1, await IndexCountAsync(table));

            // The statement runs again: the page shows its latency since the build against before.
            await RunLookupsAsync(table, 5);
            await Eventually.ThatAsync(async () =>
            {
                await admin.Page.ReloadAsync();
                var change = await admin.Page.Locator("[data-figure=change]").First.InnerTextAsync();
                return change.EndsWith(" %", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(60), "the measured latency change on the application's page", TimeSpan.FromSeconds(2));
            await admin.ScreenshotAsync("index-applied");
        }
        finally
        {
            await using var drop = stack.ClientsDb.CreateCommand($"DROP TABLE IF EXISTS {table}");
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Runs the lookup on <paramref name="table"/> <paramref name="times"/> times as ClientsApi's role (the advisor's application role).</summary>
    private async Task RunLookupsAsync(string table, int times)
    {
        await using var workload = NpgsqlDataSource.Create(await stack.ConnectionStringAsync("clientsdb-clients-api"));
        for (var i = 1; i <= times; i++)
        {
            await using var command = workload.CreateCommand($"SELECT id, pad FROM {table} WHERE lookup = $1");
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = i * 7919L % 1000003 });
            await command.ExecuteScalarAsync();
        }
    }

    /// <summary>Valid indexes on <paramref name="table"/> besides its primary key.</summary>
    private async Task<long> IndexCountAsync(string table)
    {
        await using var command = stack.ClientsDb.CreateCommand(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = $1 AND NOT i.indisprimary AND i.indisvalid");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
