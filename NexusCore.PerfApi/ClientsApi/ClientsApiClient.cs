using System.Net;
using Microsoft.Extensions.Options;
using Polly;

namespace NexusCore.PerfApi.ClientsApi;

/// <summary>How a call to ClientsApi ended, for an endpoint to turn into its answer.</summary>
public enum ClientsApiOutcome
{
    Succeeded,

    /// <summary>No answer: not reachable, timed out, or the resilience pipeline gave up (→ 503).</summary>
    Unavailable,

    /// <summary>An answer that is not a success: a server error, or PerfApi's key refused (→ 502).</summary>
    Failed,

    /// <summary>PerfApi has no key configured for the call (→ 503: the deployment is incomplete).</summary>
    NotConfigured,
}

public sealed record ClientsApiResult(ClientsApiOutcome Outcome, HttpStatusCode? Status, string Detail);

/// <summary>
/// ClientsApi over HTTP, with the service-discovery address and the standard resilience handler every
/// HttpClient gets from ServiceDefaults, presenting PerfApi's own configured keys.
/// </summary>
public sealed class ClientsApiClient(HttpClient http, IOptionsMonitor<ApiKeyOptions> keys, IOptions<ClientsApiOptions> options)
{
    public const string CacheClearPath = "/api/v1/cache/clear";

    public HttpClient Http => http;

    /// <summary><c>POST /api/v1/cache/clear</c> with the admin key: clears the cache on every ClientsApi instance (through its backplane).</summary>
    public async Task<ClientsApiResult> ClearCacheAsync(CancellationToken ct)
    {
        if (Key(options.Value.AdminKeyName) is not { } key)
        {
            return new ClientsApiResult(ClientsApiOutcome.NotConfigured, null,
                $"PerfApi has no API key named '{options.Value.AdminKeyName}' (ApiKeys:Keys:{options.Value.AdminKeyName}:Key) to present to ClientsApi.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.CacheClearTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, CacheClearPath);
        request.Headers.Add(ApiKeyAuthentication.HeaderName, key);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            return response.IsSuccessStatusCode
                ? new ClientsApiResult(ClientsApiOutcome.Succeeded, response.StatusCode, "ClientsApi cleared its cache.")
                : new ClientsApiResult(ClientsApiOutcome.Failed, response.StatusCode, response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? $"ClientsApi refused PerfApi's '{options.Value.AdminKeyName}' key ({(int)response.StatusCode})."
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

    /// <summary>The configured key named <paramref name="name"/>, or null.</summary>
    public string? Key(string name) =>
        keys.CurrentValue.Keys.TryGetValue(name, out var entry) && entry.Key.Length > 0 ? entry.Key : null;
}
