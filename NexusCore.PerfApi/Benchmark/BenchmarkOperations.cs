using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace NexusCore.PerfApi.Benchmark;

/// <summary>Clients the benchmark can read: ids for the by-id routes, words of names for search.</summary>
public sealed record BenchmarkData(IReadOnlyList<long> Ids, IReadOnlyList<string> Terms)
{
    public static readonly BenchmarkData Empty = new([], []);

    /// <summary>Reads ids and name words from a ClientsApi page (<c>{"items":[{"id":…,"name":…}]}</c>).</summary>
    public static BenchmarkData FromPage(JsonElement page)
    {
        var ids = new List<long>();
        var terms = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (page.ValueKind == JsonValueKind.Object && page.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                if (item.TryGetProperty("id", out var id) && id.TryGetInt64(out var value))
                {
                    ids.Add(value);
                }

                if (item.TryGetProperty("name", out var name) && name.GetString() is { } text
                    && text.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() is { Length: >= 2 } word
                    && word.All(char.IsLetter))
                {
                    terms.Add(word);
                }
            }
        }

        return new BenchmarkData(ids, terms.Take(20).ToList());
    }
}

/// <summary>One ClientsApi route the benchmark calls, and how to build its i-th request.</summary>
public sealed record BenchmarkOperation(string Name, string Method, string Route, bool NeedsClients, Func<BenchmarkData, int, HttpRequestMessage> Build);

/// <summary>The ClientsApi routes the seed's benchmark measured, by the names a request may pick.</summary>
public static class BenchmarkOperations
{
    public const int ByIdsBatchSize = 20;

    public static readonly IReadOnlyList<BenchmarkOperation> All =
    [
        new("dashboard", "GET", "/api/v1/optimized/clients/dashboard", false,
            (_, _) => new HttpRequestMessage(HttpMethod.Get, "/api/v1/optimized/clients/dashboard")),
        new("search", "GET", "/api/v1/optimized/clients/search/advanced?q=…", false,
            (data, i) => new HttpRequestMessage(HttpMethod.Get,
                "/api/v1/optimized/clients/search/advanced?limit=20&q=" + Uri.EscapeDataString(data.Terms.Count == 0 ? "client" : data.Terms[i % data.Terms.Count]))),
        new("get_by_id", "GET", "/api/v1/clients/{id}", true,
            (data, i) => new HttpRequestMessage(HttpMethod.Get, "/api/v1/clients/" + data.Ids[i % data.Ids.Count].ToString(CultureInfo.InvariantCulture))),
        new("by_ids", "POST", "/api/v1/optimized/clients/by-ids", true,
            (data, i) => new HttpRequestMessage(HttpMethod.Post, "/api/v1/optimized/clients/by-ids")
            {
                Content = JsonContent.Create(new { ids = Enumerable.Range(i, ByIdsBatchSize).Select(k => data.Ids[k % data.Ids.Count]).Distinct().ToArray() }),
            }),
        new("analytics", "GET", "/api/v1/optimized/clients/analytics/performance", false,
            (_, _) => new HttpRequestMessage(HttpMethod.Get, "/api/v1/optimized/clients/analytics/performance")),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(o => o.Name).ToList();

    /// <summary>Where the benchmark finds clients to read (reader key, first page).</summary>
    public const string SamplePath = "/api/v1/clients?limit=100";
}
