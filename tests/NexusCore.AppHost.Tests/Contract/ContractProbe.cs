using System.Net.Http.Headers;
using System.Text;
using NexusCore.Testing.Contract;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// Sends requests to one service as a given role and checks every answer against the service's live document
/// (<see cref="OpenApiContract.Check"/>): what does not conform is collected, with the request that got it.
/// </summary>
internal sealed class ContractProbe
{
    private readonly StackFixture _stack;
    private readonly string _service;
    private readonly Dictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);

    private ContractProbe(StackFixture stack, string service, OpenApiContract contract)
    {
        _stack = stack;
        _service = service;
        Contract = contract;
    }

    public OpenApiContract Contract { get; }

    /// <summary>What did not conform: one line per answer, naming the request.</summary>
    public List<string> Violations { get; } = [];

    /// <summary>Every answer's (method, route template, status), for assertions on coverage.</summary>
    public List<(string Method, string Template, int Status)> Seen { get; } = [];

    public static async Task<ContractProbe> ForAsync(StackFixture stack, string service) =>
        new(stack, service, await OpenApiContract.LoadAsync(stack.CreateClient(service)));

    /// <summary>A key id (reader, writer, admin, ingest) or null for no key.</summary>
    public HttpClient As(string? key)
    {
        var name = key ?? "";
        if (!_clients.TryGetValue(name, out var client))
        {
            client = _stack.CreateClient(_service, key);
            _clients[name] = client;
        }

        return client;
    }

    public async Task<(int Status, string Body, HttpResponseMessage Response)> SendAsync(
        string? key, HttpMethod method, string pathAndQuery, string? json = null, IReadOnlyDictionary<string, string>? headers = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await As(key).SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        var path = pathAndQuery.Split('?')[0];
        if (Contract.Find(method.Method, path) is { } found)
        {
            Seen.Add((method.Method, found.Template, status));
        }

        foreach (var violation in Contract.Check(method.Method, path, status, response.Content.Headers.ContentType?.ToString(), body))
        {
            var shown = body.Length > 300 ? body[..300] + "…" : body;
            Violations.Add($"{violation} [{method} {pathAndQuery} as {key ?? "anonymous"}; body: {shown}]");
        }

        return (status, body, response);
    }
}
