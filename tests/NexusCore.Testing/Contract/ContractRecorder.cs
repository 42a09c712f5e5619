using System.Collections.Concurrent;
using System.Net.Http.Headers;

namespace NexusCore.Testing.Contract;

/// <summary>
/// Checks every answer the tests' HttpClients receive from a service against the OpenAPI document that service
/// serves (read once per service address): its status documented for the route and method, its media type
/// documented for that status and, for a JSON body whose length is announced and at most
/// <see cref="MaxCheckedBody"/>, the body against its schema. Bodies streamed without a length (exports) are
/// not read, so no test's streaming or timing changes. What does not conform is kept (at most
/// <see cref="MaxViolations"/> distinct ones) for <see cref="StackFixture"/> to report when the stack stops.
/// </summary>
public sealed class ContractRecorder
{
    public const int MaxCheckedBody = 256 * 1024;
    public const int MaxViolations = 200;

    private readonly ConcurrentDictionary<string, Lazy<Task<OpenApiContract?>>> _contracts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _violations = new(StringComparer.Ordinal);

    /// <summary>Distinct violations, each with how many answers broke it.</summary>
    public IReadOnlyDictionary<string, int> Violations => _violations;

    /// <summary>Answers checked so far.</summary>
    public int Checked => _checked;

    private int _checked;

    /// <summary>A handler that checks what passes through it; give <paramref name="inner"/> unless a factory sets it.</summary>
    public DelegatingHandler CreateHandler(HttpMessageHandler? inner = null) => inner is null ? new Handler(this) : new Handler(this) { InnerHandler = inner };

    private async Task<OpenApiContract?> ContractOfAsync(Uri address)
    {
        var origin = address.GetLeftPart(UriPartial.Authority);
        var lazy = _contracts.GetOrAdd(origin, o => new Lazy<Task<OpenApiContract?>>(() => LoadAsync(o)));
        var contract = await lazy.Value;
        if (contract is null)
        {
            // A service that was down (stopped by a test) is asked again next time.
            _contracts.TryRemove(new KeyValuePair<string, Lazy<Task<OpenApiContract?>>>(origin, lazy));
        }

        return contract;
    }

    /// <summary>Reads a service's document before any test needs it, so that no test's first answer waits for it.</summary>
    public Task PreloadAsync(Uri service) => ContractOfAsync(service);

    private async Task<OpenApiContract?> LoadAsync(string origin)
    {
        string json;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(origin), Timeout = TimeSpan.FromSeconds(30) };
            using var response = await http.GetAsync(OpenApiContract.DocumentPath);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            json = await response.Content.ReadAsStringAsync();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // Down (a test stopped it): asked again on its next answer.
            return null;
        }

        try
        {
            return await OpenApiContract.ParseAsync(json);
        }
        catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or InvalidOperationException or ArgumentException)
        {
            _violations.TryAdd($"{origin}{OpenApiContract.DocumentPath} could not be read as an OpenAPI document: {ex.Message}", 1);
            return null;
        }
    }

    private async Task RecordAsync(HttpRequestMessage request, HttpResponseMessage response)
    {
        // API routes only: probes, the document itself and the reference page are no operations (and Aspire's own
        // health checks, which share the factory's defaults, must not make the recorder read documents).
        if (request.RequestUri is not { } uri
            || !(uri.AbsolutePath.StartsWith("/api/", StringComparison.Ordinal) || uri.AbsolutePath.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            return;
        }

        var contract = await ContractOfAsync(uri);
        if (contract is null)
        {
            return;
        }

        string? body = null;
        var type = response.Content.Headers.ContentType;
        if (type is not null && IsJson(type) && response.Content.Headers.ContentLength is > 0 and <= MaxCheckedBody)
        {
            await response.Content.LoadIntoBufferAsync();
            body = await response.Content.ReadAsStringAsync();
        }

        Interlocked.Increment(ref _checked);
        foreach (var violation in contract.Check(request.Method.Method, uri.AbsolutePath, (int)response.StatusCode, type?.ToString(), body))
        {
            if (_violations.Count < MaxViolations || _violations.ContainsKey(violation))
            {
                _violations.AddOrUpdate(violation, 1, (_, n) => n + 1);
            }
        }
    }

    private static bool IsJson(MediaTypeHeaderValue type) =>
        type.MediaType is { } media && (media.EndsWith("/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private sealed class Handler(ContractRecorder recorder) : DelegatingHandler
    {

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            await recorder.RecordAsync(request, response);
            return response;
        }
    }
}
