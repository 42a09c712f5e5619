using System.Net;
using System.Net.Http.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class DashboardTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    private static readonly string[] Statuses = ["active", "inactive", "pending"];
    private static readonly string[] Programs = ["PRIME", "LONGEVITY", "PERFORMANCE"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task TheDashboardEqualsTheReferenceFunctionAfterARandomMixOfWrites(int seed)
    {
        var random = new Random(seed);
        var mine = new List<long>();
        for (var step = 0; step < 150; step++)
        {
            switch (random.Next(5))
            {
                case 0 or 1 when mine.Count < 80:
                    mine.Add((await _api.CreateOkAsync($"Mix {seed}", ClientsApiDriver.UniqueEmail("mix"), Pick(Programs, random), Pick(Statuses, random))).Id);
                    break;
                case 2 when mine.Count > 0:
                    var patched = await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{Pick(mine, random)}", new { status = Pick(Statuses, random), programType = Pick(Programs, random) });
                    Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
                    break;
                case 3 when mine.Count > 0:
                    var victim = Pick(mine, random);
                    mine.Remove(victim);
                    Assert.Equal(HttpStatusCode.NoContent, (await _api.Http.DeleteAsync($"/api/v1/clients/{victim}")).StatusCode);
                    break;
                default:
                    var items = Enumerable.Range(0, random.Next(1, 20)).Select(i => new
                    {
                        op = "upsert",
                        name = "Mix upsert",
                        email = $"mix-upsert-{seed}-{random.Next(40)}-{i}@example.com",
                        status = Pick(Statuses, random),
                        programType = Pick(Programs, random),
                    }).DistinctBy(i => i.email).ToList();
                    var batch = await _api.BatchWithinRateLimitAsync(new { items });
                    Assert.Equal(items.Count, batch.Succeeded);
                    break;
            }
        }

        var dashboard = await ClientsApiDriver.ReadAsync<DashboardDto>(await _api.Reader.GetAsync("/api/v1/optimized/clients/dashboard"));
        var reference = (await _api.QueryAsync(
            "SELECT total_clients, active_clients, prime_clients, longevity_clients, active_rate FROM get_client_dashboard_metrics()",
            r => new DashboardDto(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetDecimal(4))))[0];

        Assert.Equal(reference, dashboard);
        await AssertCountersEqualTheTableAsync();
    }

    [Fact]
    public async Task CountersFollowWritesMadeDirectlyInSqlIncludingMultiRowStatements()
    {
        var token = ClientsApiDriver.Token();
        await _api.ExecuteAsync(
            "INSERT INTO clients (name, email, status, program_type, created_at) SELECT 'Sql ' || $1, $1 || '-' || g || '@example.com', (ARRAY['active','inactive','pending'])[1 + g % 3], (ARRAY['PRIME','LONGEVITY','PERFORMANCE'])[1 + g % 3], now() - g * interval '1 day' FROM generate_series(1, 300) g",
            token);
        await _api.ExecuteAsync("UPDATE clients SET status = 'active' WHERE name = 'Sql ' || $1 AND status = 'pending'", token);
        await _api.ExecuteAsync("DELETE FROM clients WHERE name = 'Sql ' || $1 AND program_type = 'LONGEVITY'", token);

        await AssertCountersEqualTheTableAsync();
    }

    private async Task AssertCountersEqualTheTableAsync()
    {
        var counters = await _api.QueryAsync(
            "SELECT status, program_type, clients FROM client_counts WHERE clients <> 0 ORDER BY 1, 2",
            r => (r.GetString(0), r.GetString(1), r.GetInt64(2)));
        var table = await _api.QueryAsync(
            "SELECT status, program_type, count(*) FROM clients GROUP BY 1, 2 ORDER BY 1, 2",
            r => (r.GetString(0), r.GetString(1), r.GetInt64(2)));
        Assert.Equal(table, counters);

        var daily = await _api.QueryAsync(
            "SELECT day, status, program_type, clients FROM client_daily_counts WHERE clients <> 0 ORDER BY 1, 2, 3",
            r => (r.GetFieldValue<DateOnly>(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
        var dailyFromTable = await _api.QueryAsync(
            "SELECT (created_at AT TIME ZONE 'UTC')::date, status, program_type, count(*) FROM clients GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            r => (r.GetFieldValue<DateOnly>(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
        Assert.Equal(dailyFromTable, daily);
    }

    private static T Pick<T>(IReadOnlyList<T> values, Random random) => values[random.Next(values.Count)];
}

internal sealed record DashboardDto(long TotalClients, long ActiveClients, long PrimeClients, long LongevityClients, decimal ActiveRate);

internal sealed record BatchDto(string Mode, int Succeeded, int Failed, List<BatchItemDto> Items);

internal sealed record BatchItemDto(int Index, string Op, int Status, long? Id, int? Version, BatchProblemDto? Problem);

internal sealed record BatchProblemDto(string Type, string Detail, List<ProblemError> Errors);
