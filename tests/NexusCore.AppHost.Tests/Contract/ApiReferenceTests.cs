using System.Net;
using System.Text.RegularExpressions;
using Aspire.Hosting.ApplicationModel;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// The interactive API reference (Scalar) each service serves at <c>/scalar/</c>: without a key, from its own
/// files (nothing loaded from another origin), reading the service's own document, and linked from the
/// dashboard's resource URLs.
/// </summary>
[Collection(StackCollection.Name)]
public sealed partial class ApiReferenceTests(StackFixture stack)
{
    [Theory]
    [InlineData("clients-api", "NexusCore Clients API")]
    [InlineData("perf-api", "NexusCore Performance API")]
    public async Task EachServiceServesItsReferenceWithoutAKeyAndLoadsNothingFromOutside(string service, string title)
    {
        var http = stack.CreateClient(service);

        var redirect = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = http.BaseAddress }.GetAsync("/scalar");
        Assert.True(redirect.StatusCode is HttpStatusCode.Found or HttpStatusCode.MovedPermanently, $"/scalar answered {(int)redirect.StatusCode}");

        var page = await http.GetAsync("/scalar/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains($"<title>{title}</title>", html, StringComparison.Ordinal);
        Assert.True(html.Contains("swagger.json", StringComparison.Ordinal), html);

        // No absolute URL anywhere in the page (scripts, styles, fonts, the configuration): every resource is the service's.
        Assert.Empty(AbsoluteUrl().Matches(html).Select(m => m.Value));
        Assert.Contains("\"withDefaultFonts\":false", html.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);

        var sources = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("scalar.js", sources);
        foreach (var source in sources)
        {
            var script = await http.GetAsync("/scalar/" + source);
            Assert.True(script.StatusCode == HttpStatusCode.OK, $"/scalar/{source} answered {(int)script.StatusCode}");
            Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        }

        // The bundle itself, served from the package (hundreds of kilobytes), not a loader of a remote one.
        var bundle = await http.GetByteArrayAsync("/scalar/scalar.js");
        Assert.True(bundle.Length > 500_000, $"scalar.js is {bundle.Length} bytes");
    }

    [Theory]
    [InlineData("clients-api")]
    [InlineData("perf-api")]
    public async Task TheDashboardLinksEachServicesReferenceAndDocument(string service)
    {
        Assert.True(stack.App.ResourceNotifications.TryGetCurrentState(service, out var state));
        var urls = state.Snapshot.Urls.Select(u => u.Url).ToList();

        var reference = Assert.Single(urls, u => u.EndsWith("/scalar/", StringComparison.Ordinal));
        var document = Assert.Single(urls, u => u.EndsWith("/swagger/v1/swagger.json", StringComparison.Ordinal));
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(reference)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(document)).StatusCode);
    }

    [GeneratedRegex(@"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex AbsoluteUrl();

    [GeneratedRegex(@"<script[^>]*\ssrc=""([^""]+)""", RegexOptions.CultureInvariant)]
    private static partial Regex ScriptSource();
}
