using System.Net.Http.Headers;
using NJsonSchema;
using NSwag;

namespace NexusCore.Testing.Contract;

/// <summary>
/// A service's live OpenAPI document, read as a contract: which operation a request is, and whether a response
/// is one the document allows (its status documented for that route and method, its media type documented for
/// that status, its JSON body valid against the documented schema, problem documents included). Bodies are
/// checked with NJsonSchema in OpenAPI 3 mode (<c>nullable</c> understood).
/// </summary>
public sealed class OpenApiContract
{
    public const string DocumentPath = "/swagger/v1/swagger.json";

    private readonly List<(string[] Segments, string Template, OpenApiPathItem Item)> _routes;

    private OpenApiContract(OpenApiDocument document, string json)
    {
        Document = document;
        Json = json;
        _routes = document.Paths
            .Select(p => (p.Key.Trim('/').Split('/'), p.Key, p.Value))
            .ToList();
    }

    public OpenApiDocument Document { get; }

    /// <summary>The document as served.</summary>
    public string Json { get; }

    /// <summary>Reads the document a service serves (no key needed).</summary>
    public static async Task<OpenApiContract> LoadAsync(HttpClient service, CancellationToken ct = default)
    {
        var json = await service.GetStringAsync(DocumentPath, ct);
        return await ParseAsync(json, ct);
    }

    public static async Task<OpenApiContract> ParseAsync(string json, CancellationToken ct = default) =>
        new(await OpenApiDocument.FromJsonAsync(json, ct), json);

    /// <summary>Every documented operation: its path template, method (lower case) and operation.</summary>
    public IEnumerable<(string Template, string Method, OpenApiOperation Operation)> Operations =>
        Document.Paths.SelectMany(p => p.Value.Select(o => (p.Key, o.Key.ToLowerInvariant(), o.Value)));

    /// <summary>
    /// The documented operation a request is (HEAD is its GET, RFC 9110 §9.3.2), or null when the document has
    /// no such route and method. Literal segments win over parameters, as in routing.
    /// </summary>
    public (string Template, OpenApiOperation Operation)? Find(string method, string path)
    {
        var verb = method.Equals("HEAD", StringComparison.OrdinalIgnoreCase) ? "get" : method.ToLowerInvariant();
        var segments = path.Split('?')[0].Trim('/').Split('/');
        var matches = _routes
            .Where(r => r.Segments.Length == segments.Length
                && r.Segments.Zip(segments).All(s => IsParameter(s.First) || string.Equals(s.First, Uri.UnescapeDataString(s.Second), StringComparison.OrdinalIgnoreCase)))
            .OrderBy(r => r.Segments.Count(IsParameter))
            .ToList();
        foreach (var (_, template, item) in matches)
        {
            if (item.TryGetValue(verb, out var operation))
            {
                return (template, operation);
            }
        }

        return null;
    }

    private static bool IsParameter(string segment) => segment.StartsWith('{') && segment.EndsWith('}');

    /// <summary>
    /// What is wrong with a response, by the document (empty when it conforms). A request the document has no
    /// operation for yields nothing: it is not a documented route and method (an unknown path's 404, a 405).
    /// <paramref name="body"/> null means the body was not read: its media type is checked, not its content.
    /// </summary>
    public IReadOnlyList<string> Check(string method, string path, int status, string? contentType, string? body)
    {
        if (Find(method, path) is not { } found)
        {
            return [];
        }

        var (template, operation) = found;

        var where = $"{method.ToUpperInvariant()} {template} → {status}";
        var responses = operation.ActualResponses;
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!responses.TryGetValue(key, out var response) && !responses.TryGetValue("default", out response))
        {
            return [$"{where}: status {status} is not documented (documented: {string.Join(", ", responses.Keys)})."];
        }

        // HEAD, 204 and 304 carry no content; a body read as empty had none; a body not read (null) is checked
        // by its media type only.
        var content = response.ActualResponse.Content;
        var isHead = method.Equals("HEAD", StringComparison.OrdinalIgnoreCase);
        if (isHead || status is 204 or 304 || body is { Length: 0 } || (body is null && contentType is null))
        {
            return [];
        }

        var mediaType = contentType is null ? null : MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType : contentType;
        if (content.Count == 0)
        {
            return [$"{where}: a body of type {mediaType ?? "(none)"} was sent, but the document describes no content for this status."];
        }

        var media = content.FirstOrDefault(c => string.Equals(c.Key, mediaType, StringComparison.OrdinalIgnoreCase)).Value
            ?? content.FirstOrDefault(c => c.Key is "*/*").Value;
        if (media is null)
        {
            return [$"{where}: content type {mediaType ?? "(none)"} is not documented (documented: {string.Join(", ", content.Keys)})."];
        }

        if (body is null || mediaType is null || !(mediaType.EndsWith("/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return [];
        }

        if (media.Schema?.ActualSchema is not { } schema)
        {
            return [$"{where}: JSON content ({mediaType}) is documented without a schema."];
        }

        try
        {
            var errors = schema.Validate(body, SchemaType.OpenApi3);
            return errors.Select(e => $"{where}: {e.Kind} at {(string.IsNullOrEmpty(e.Path) ? "#" : e.Path)}" + (e.Property is { } p ? $" ({p})" : "")).ToList();
        }
        catch (Newtonsoft.Json.JsonException ex)
        {
            return [$"{where}: the body is not JSON ({ex.Message})."];
        }
    }

    /// <summary>As <see cref="Check(string, string, int, string?, string?)"/>, for a response whose body has been read.</summary>
    public async Task<IReadOnlyList<string>> CheckAsync(HttpResponseMessage response)
    {
        var request = response.RequestMessage ?? throw new ArgumentException("The response has no request.", nameof(response));
        var body = await response.Content.ReadAsStringAsync();
        return Check(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body);
    }
}
