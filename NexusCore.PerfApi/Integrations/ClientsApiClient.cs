using System.Net;
using Microsoft.Extensions.Options;
using Polly;

namespace NexusCore.PerfApi.Integrations;

/// <summary>How a call to ClientsApi ended, for an endpoint to turn into its answer.</summary>
public enum ClientsApiOutcome
{
    Succeeded,

    /// <summary>No answer: not reachable, timed out, or the resilience pipeline gave up (→ 503).</summary>
    Unavailable,

    /// <summary>An answer that is not a success: a server error, or the caller's key refused there (→ 502).</summary>
    Failed,
}

public sealed record ClientsApiResult(ClientsApiOutcome Outcome, HttpStatusCode? Status, string Detail);

/// <summary>
/// ClientsApi over HTTP, with the service-discovery address and the standard resilience handler every
/// HttpClient gets from ServiceDefaults. PerfApi holds no key of its own (services get only the keys' hashes):
/// it calls ClientsApi on its caller's behalf with the caller's own key, so ClientsApi checks that caller's role
/// and counts the calls against that caller's rate limit.
/// </summary>
public sealed class ClientsApiClient(HttpClient http, IOptions<ClientsApiOptions> options)
{
    public const string CacheClearPath = "/api/v1/cache/clear";

    public HttpClient Http => http;

    /// <summary>
    /// <c>POST /api/v1/cache/clear</c> with the caller's (admin) key: clears the cache on every ClientsApi instance
    /// (through its backplane).
    /// </summary>
    public async Task<ClientsApiResult> ClearCacheAsync(string callerKey, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.CacheClearTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, CacheClearPath);
        request.Headers.Add(ApiKeyAuthentication.HeaderName, callerKey);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            return response.IsSuccessStatusCode
                ? new ClientsApiResult(ClientsApiOutcome.Succeeded, response.StatusCode, "ClientsApi cleared its cache.")
                : new ClientsApiResult(ClientsApiOutcome.Failed, response.StatusCode, response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? $"ClientsApi refused the caller's key ({(int)response.StatusCode})."
                    : $"ClientsApi answered {(int)response.StatusCode} to the cache clear.");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ClientsApiResult(ClientsApiOutcome.Unavailable, null,
                $"ClientsApi did not answer within {options.Value.CacheClearTimeout.TotalSeconds:0.#} s.");
        }
        catch (Exception ex) when (ex is HttpRequestException or ExecutionRejectedException)
        {
            return new ClientsApiResult(ClientsApiOutcome.Unavailable, null, $"ClientsApi could not be reached: {ex.Message}");
        }
    }
}
