using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NexusCore.ServiceDefaults;
using NexusCore.Web;

namespace NexusCore.AppHost;

/// <summary>
/// The Aspire dashboard as the operators' front door (issue 28): links from perf-api and clients-api to PerfApi's
/// console, buttons (resource commands) that call PerfApi's routes with the stack's own keys and report their result
/// in the dashboard's notifications, and, when <see cref="AlertsAsHealthKey"/> is true (run.sh sets it), PerfApi's
/// active alerts as clients-api's health: degraded, with the alerts as the reason.
/// </summary>
internal static class ConsoleDashboardExtensions
{
    public const string ConsolePath = "/console";
    public const string AlertsAsHealthKey = "NexusCore:Dashboard:AlertsAsHealth";
    public const string AlertsHealthCheck = "perf-api-alerts";

    public const string ClearCacheCommand = "clear-cache";
    public const string RunBenchmarkCommand = "run-benchmark";
    public const string RefreshIndexAdviceCommand = "refresh-index-advice";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(2) };

    public static void WithConsole(
        this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> perfApi, IResourceBuilder<ProjectResource> clientsApi, ApiKeys keys)
    {
        var admin = keys.All.FirstOrDefault(k => k.Role == ApiKeyRules.Admin);
        var reader = keys.All.FirstOrDefault(k => k.Role == ApiKeyRules.Reader) ?? admin;
        var perfEndpoint = perfApi.GetEndpoint("http");

        perfApi
            .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = endpoint.Url + ConsolePath, DisplayText = "Console" })
            .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = endpoint.Url + ConsolePath + "/indexes", DisplayText = "Console: indexes" });
        clientsApi.WithUrls(context =>
        {
            if (perfEndpoint.IsAllocated)
            {
                context.Urls.Add(new ResourceUrlAnnotation { Url = perfEndpoint.Url + ConsolePath + "/queries", DisplayText = "Console: queries (perf-api)" });
            }
        });

        if (admin is not null)
        {
            perfApi.WithCommand(ClearCacheCommand, "Clear ClientsApi cache", context =>
                CallAsync(perfEndpoint, admin, HttpMethod.Post, "/api/v1/performance/cache/clear", null, _ => "ClientsApi cleared its cache on every instance.", context.CancellationToken),
                Options("Clears ClientsApi's cache on every instance (through PerfApi, with the admin key).", "Delete", "Clear ClientsApi's cache on every instance?"));
            perfApi.WithCommand(RunBenchmarkCommand, "Run benchmark", context =>
                CallAsync(perfEndpoint, admin, HttpMethod.Post, "/api/v1/performance/benchmark", "{}", Benchmark, context.CancellationToken),
                Options("Runs PerfApi's benchmark of ClientsApi's read routes (about 5 s) and reports each operation's p95 and rating.", "TopSpeed", null));
        }

        if (reader is not null)
        {
            perfApi.WithCommand(RefreshIndexAdviceCommand, "Refresh index advice", context =>
                CallAsync(perfEndpoint, reader, HttpMethod.Get, "/api/v1/performance/indexes?refresh=true", null, IndexAdvice, context.CancellationToken),
                Options("Runs the index advisor again and reports what it recommends.", "DatabaseSearch", null));

            if (builder.Configuration.GetValue(AlertsAsHealthKey, false))
            {
                builder.Services.AddHealthChecks().AddAsyncCheck(AlertsHealthCheck, ct => AlertsAsync(perfEndpoint, reader, ct));
                clientsApi.WithHealthCheck(AlertsHealthCheck);
            }
        }
    }

    private static CommandOptions Options(string description, string icon, string? confirmation) => new()
    {
        Description = description,
        IconName = icon,
        ConfirmationMessage = confirmation,
        UpdateState = context => context.ResourceSnapshot.HealthStatus is HealthStatus.Healthy or HealthStatus.Degraded
            ? ResourceCommandState.Enabled
            : ResourceCommandState.Disabled,
    };

    private static async Task<ExecuteCommandResult> CallAsync(
        EndpointReference perfApi, ApiKey key, HttpMethod method, string path, string? json, Func<JsonElement, string> describe, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(method, perfApi.Url + path);
            request.Headers.Add("X-Api-Key", await key.ValueAsync(ct));
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            using var response = await Http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            using var document = body.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(body);
            if (!response.IsSuccessStatusCode)
            {
                var detail = document.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
                return CommandResults.Failure($"PerfApi answered {(int)response.StatusCode}: {detail ?? response.ReasonPhrase}");
            }

            return CommandResults.Success(describe(document.RootElement));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return CommandResults.Failure($"PerfApi could not be reached: {ex.Message}");
        }
    }

    private static string Benchmark(JsonElement result)
    {
        if (!result.TryGetProperty("operations", out var operations) || operations.ValueKind != JsonValueKind.Array)
        {
            return "The benchmark ran.";
        }

        var parts = operations.EnumerateArray().Select(o =>
            $"{Text(o, "name") ?? Text(o, "operation")}: {Text(o, "rating") ?? "?"} (p95 {Number(o, "p95Ms")} ms)");
        return "Benchmark: " + string.Join("; ", parts);
    }

    private static string IndexAdvice(JsonElement advice)
    {
        var recommendations = advice.GetProperty("recommendations").EnumerateArray().Select(r => Text(r, "statement")).ToList();
        var retire = advice.GetProperty("retire").GetArrayLength();
        return recommendations.Count == 0
            ? $"No index to create; {retire} to retire. Details: the console's Indexes page."
            : $"{recommendations.Count} index(es) to create ({string.Join("; ", recommendations)}); {retire} to retire. Apply them from the console's Indexes page.";
    }

    private static async Task<HealthCheckResult> AlertsAsync(EndpointReference perfApi, ApiKey reader, CancellationToken ct)
    {
        if (!perfApi.IsAllocated)
        {
            return HealthCheckResult.Healthy("PerfApi is not running: no alert known.");
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, perfApi.Url + "/api/v1/performance/alerts");
            request.Headers.Add("X-Api-Key", await reader.ValueAsync(ct));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await Http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                return HealthCheckResult.Healthy($"PerfApi's alerts could not be read ({(int)response.StatusCode}).");
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var active = document.RootElement.GetProperty("active").EnumerateArray().Select(a => Text(a, "message")).ToList();
            return active.Count == 0
                ? HealthCheckResult.Healthy("No PerfApi alert is active.")
                : HealthCheckResult.Degraded($"PerfApi alert(s): {string.Join("; ", active)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            // PerfApi being away says nothing about ClientsApi: not a reason to mark it degraded.
            return HealthCheckResult.Healthy("PerfApi's alerts could not be read.");
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble().ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)
            : "?";
}
