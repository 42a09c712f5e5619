using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace NexusCore.PerfApi.Tests;

/// <summary>PerfApi's routes read as JSON, with the key of a role.</summary>
internal sealed class PerfApiClient(StackFixture stack, string? role = "reader")
{
    public HttpClient Http { get; } = stack.CreateClient("perf-api", role);

    /// <summary>GETs <paramref name="path"/>, asserts 200 and returns the body.</summary>
    public async Task<JsonElement> GetAsync(string path)
    {
        var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, object? body = null)
    {
        var response = body is null ? await Http.PostAsync(path, null) : await Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }
}

internal static class JsonElements
{
    public static IEnumerable<JsonElement> Items(this JsonElement element, string property) => element.GetProperty(property).EnumerateArray();

    public static string Text(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    public static double Number(this JsonElement element, string property) => element.GetProperty(property).GetDouble();

    public static long Long(this JsonElement element, string property) => element.GetProperty(property).GetInt64();

    public static double? NullableNumber(this JsonElement element, string property) =>
        element.GetProperty(property).ValueKind == JsonValueKind.Null ? null : element.GetProperty(property).GetDouble();
}
