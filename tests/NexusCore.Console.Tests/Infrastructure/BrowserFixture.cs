using Microsoft.Playwright;

namespace NexusCore.Console.Tests.Infrastructure;

/// <summary>
/// One headless chromium for the collection: Debian's <c>/usr/bin/chromium</c> (installed by
/// <c>scripts/prerequisites.sh tests</c>; <c>NEXUSCORE_CHROMIUM</c> names another), launched through Playwright's
/// <c>ExecutablePath</c>, so Playwright downloads no browser. Each test gets its own context (cookies, history),
/// whose every request is recorded, and writes a screenshot of each page it looks at to <see cref="ScreenshotDirectory"/>.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string DefaultExecutable = "/usr/bin/chromium";

    /// <summary>Where screenshots go: <c>screenshots/</c> in the test output directory.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser has not started.");

    public async Task InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("NEXUSCORE_CHROMIUM") is { Length: > 0 } configured ? configured : DefaultExecutable;
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"No browser at {executable}: run scripts/prerequisites.sh tests (it installs Debian's chromium).");
        }

        Directory.CreateDirectory(ScreenshotDirectory);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Chromium's sandbox needs user namespaces, which root (CI here) cannot use without it being off.
            Args = Environment.UserName == "root" ? ["--no-sandbox"] : [],
            Timeout = 60_000,
        });
    }

    /// <summary>A new browser context (no cookies) and page on a laptop-sized screen, recording every request it makes.</summary>
    public async Task<BrowserSession> NewSessionAsync(Uri origin)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = origin.ToString(),
            ViewportSize = new ViewportSize { Width = 1366, Height = 768 },
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        return new BrowserSession(origin, context, page);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>A browser context and its page, with every request URL it made and every response's size.</summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly List<string> _requests = [];
    private readonly Lock _gate = new();

    public BrowserSession(Uri origin, IBrowserContext context, IPage page)
    {
        Origin = origin;
        Context = context;
        Page = page;
        context.Request += (_, request) =>
        {
            lock (_gate)
            {
                _requests.Add(request.Url);
            }
        };
    }

    public Uri Origin { get; }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Requests to anything but the origin's host and port (data: URLs aside).</summary>
    public IReadOnlyList<string> ForeignRequests => Requests
        .Where(url => !url.StartsWith("data:", StringComparison.Ordinal) && !url.StartsWith("about:", StringComparison.Ordinal))
        .Where(url => !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host != Origin.Host || uri.Port != Origin.Port)
        .ToList();

    /// <summary>Writes a full-page screenshot to <see cref="BrowserFixture.ScreenshotDirectory"/>.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(BrowserFixture.ScreenshotDirectory, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}
