using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace NexusCore.Testing;

/// <summary>
/// An RFC 9457 problem document as the APIs send it, read from a response. <see cref="Outcome"/> is a
/// failed write's <c>not_applied</c> or <c>unknown</c> (503 only); <see cref="TraceId"/> names the request.
/// </summary>
public sealed record Problem(string Type, string Title, int Status, string? Detail, IReadOnlyList<ProblemError> Errors, string? Outcome = null, string? TraceId = null)
{
    /// <summary>A fresh W3C trace id: 32 lower-case hex digits.</summary>
    public static string NewTraceId() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    /// <summary>A <c>traceparent</c> header value that puts a request in trace <paramref name="traceId"/> (32 hex digits), as a caller's tracer would.</summary>
    public static string TraceParent(string traceId) => $"00-{traceId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..8])}-01";

    /// <summary>Asserts that the problem names a span of trace <paramref name="traceId"/>, in W3C trace context form.</summary>
    public void AssertTraceOf(string traceId)
    {
        Assert.NotNull(TraceId);
        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-0[01]$", TraceId);
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Asserts the status and the problem content type, then reads the document.</summary>
    public static async Task<Problem> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<Problem>(body, Json)!;
        Assert.Equal((int)expected, problem.Status);
        Assert.StartsWith("https://nexuscore.dev/problems/", problem.Type);
        return problem with { Errors = problem.Errors ?? [] };
    }

    public static Task<T?> ReadJsonAsync<T>(HttpResponseMessage response) => response.Content.ReadFromJsonAsync<T>(Json);
}

public sealed record ProblemError(string Name, string Reason, string? Code);
