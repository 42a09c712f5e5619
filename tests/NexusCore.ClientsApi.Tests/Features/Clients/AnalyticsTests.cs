using System.Net;
using System.Text.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class AnalyticsTests(ClientsApiStack stack)
{
    private const string Route = "/api/v1/optimized/clients/analytics/performance";
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task NewClientsPerMonthByProgramAndStatusWithTheActiveRateTrendAreExact()
    {
        // A year no other test writes to: 1997. Two clients in January, three in March.
        var token = ClientsApiDriver.Token();
        (string Day, string Status, string Program)[] rows =
        [
            ("1997-01-05", "active", "PRIME"), ("1997-01-31", "inactive", "LONGEVITY"),
            ("1997-03-01", "active", "PRIME"), ("1997-03-15", "active", "PERFORMANCE"), ("1997-03-31", "pending", "PRIME"),
        ];
        var n = 0;
        foreach (var (day, status, program) in rows)
        {
            await _api.ExecuteAsync(
                "INSERT INTO clients (name, email, status, program_type, created_at, updated_at) VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz)",
                "Analytics", $"an{n++}.{token}@example.com", status, program, day + " 12:00:00+00");
        }

        var before = (await _api.QueryAsync(
            "SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM clients WHERE created_at < '1997-01-01'",
            r => (r.GetInt64(0), r.GetInt64(1))))[0];

        var json = await GetAsync("from=1997-01-01&to=1997-03-31&granularity=month");

        var periods = json.GetProperty("newClients").EnumerateArray().ToList();
        Assert.Equal(["1997-01-01", "1997-02-01", "1997-03-01"], periods.Select(p => p.GetProperty("period").GetString()));
        Assert.Equal([2L, 0L, 3L], periods.Select(p => p.GetProperty("total").GetInt64()));
        Assert.Equal(2, periods[2].GetProperty("byProgramType").GetProperty("PRIME").GetInt64());
        Assert.Equal(1, periods[2].GetProperty("byProgramType").GetProperty("PERFORMANCE").GetInt64());
        Assert.Equal(1, periods[0].GetProperty("byStatus").GetProperty("inactive").GetInt64());
        Assert.Equal(1, periods[2].GetProperty("byStatus").GetProperty("pending").GetInt64());
        var distribution = json.GetProperty("statusDistribution");
        Assert.Equal((3L, 1L, 1L), (distribution.GetProperty("active").GetInt64(), distribution.GetProperty("inactive").GetInt64(), distribution.GetProperty("pending").GetInt64()));

        var trend = json.GetProperty("activeRateTrend").EnumerateArray().Select(t => (t.GetProperty("totalClients").GetInt64(), t.GetProperty("activeRate").GetDecimal())).ToList();
        Assert.Equal(
            [(before.Item1 + 2, Rate(before.Item2 + 1, before.Item1 + 2)), (before.Item1 + 2, Rate(before.Item2 + 1, before.Item1 + 2)), (before.Item1 + 5, Rate(before.Item2 + 3, before.Item1 + 5))],
            trend);
    }

    [Fact]
    public async Task WeeksStartOnMondayAndDaysAreFilledWithZeros()
    {
        var week = await GetAsync("from=1997-01-01&to=1997-01-14&granularity=week");
        var days = await GetAsync("from=1997-02-01&to=1997-02-03&granularity=day");

        Assert.Equal(["1996-12-30", "1997-01-06", "1997-01-13"], week.GetProperty("newClients").EnumerateArray().Select(p => p.GetProperty("period").GetString()));
        Assert.Equal([0L, 0L, 0L], days.GetProperty("newClients").EnumerateArray().Select(p => p.GetProperty("total").GetInt64()));
    }

    [Theory]
    [InlineData("from=2025-02-01&to=2025-01-01", "from", "range_invalid")]
    [InlineData("from=01/02/2025", "from", "date_invalid")]
    [InlineData("granularity=hour", "granularity", "granularity_unknown")]
    [InlineData("from=1900-01-01&to=2025-01-01&granularity=day", "from", "range_too_long")]
    [InlineData("region=eu", "region", "unknown_parameter")]
    public async Task BadParametersAre400NamingTheParameter(string query, string name, string code)
    {
        var response = await _api.Reader.GetAsync($"{Route}?{query}");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == name && e.Code == code);
    }

    private async Task<JsonElement> GetAsync(string query)
    {
        var response = await _api.Reader.GetAsync($"{Route}?{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private static decimal Rate(long active, long total) => Math.Round(100m * active / total, 2, MidpointRounding.AwayFromZero);
}
