using Aspire.Hosting.Testing;
using Microsoft.Playwright;
using NexusCore.Console.Tests.Infrastructure;

namespace NexusCore.Console.Tests;

/// <summary>Each service's Scalar API reference, opened in a real browser (issue 26): it renders the operations, from the service alone.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ApiReferenceTests(ConsoleStack stack, BrowserFixture browser)
{
    [Theory]
    [InlineData("perf-api", "NexusCore Performance API", "Query analytics per service")]
    [InlineData("clients-api", "NexusCore Clients API", "Search clients")]
    public async Task ApiReferenceRendersItsOperationsWithoutAnyOtherHost(string service, string title, string operation)
    {
        var origin = stack.App.GetEndpoint(service, "http");
        await using var session = await browser.NewSessionAsync(origin);
        var response = await session.Page.GotoAsync("/scalar/");
        Assert.Equal(200, response!.Status);

        // The reference is rendered by Scalar's script from the document: wait for its title.
        await Assertions.Expect(session.Page.GetByText(title).First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        // An operation of the first tag, listed by its summary in the navigation (Scalar renders the others as they are scrolled to).
        await Assertions.Expect(session.Page.GetByText(operation).First).ToBeAttachedAsync(new() { Timeout = 30_000 });

        var operations = await session.Page.Locator("[id^='tag/'], [id*='operation'], section").CountAsync();
        Assert.True(operations > 3, $"The reference of {service} shows {operations} sections.");
        await session.ScreenshotAsync($"scalar-{service}");
        Assert.Empty(session.ForeignRequests);
    }
}
