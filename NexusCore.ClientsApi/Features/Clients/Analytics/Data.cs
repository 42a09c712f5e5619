using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Analytics;

internal static class Data
{
    // client_daily_counts has one row per (UTC day, status, program type): a year is at most
    // 365 × 9 rows, whatever the number of clients. Postgres sums them per period (date_trunc's weeks
    // start on Monday, as PeriodStart's do), so a year by week sends 477 rows (~15 kB), not 3,276
    // (~100 kB): over one connection the larger result stalled 1-2 % of requests by 30-60 ms once the
    // pool held a dozen connections, and it cost ClientsApi twice the CPU. The first command gives
    // the totals before the range, from which the active-rate trend starts.
    private const string BeforeSql = """
        SELECT coalesce(sum(clients), 0)::bigint,
               coalesce(sum(clients) FILTER (WHERE status = 'active'), 0)::bigint
        FROM client_daily_counts
        WHERE day < $1
        """;

    private const string RangeSql = """
        SELECT date_trunc($3, day::timestamp)::date, status, program_type, sum(clients)::bigint
        FROM client_daily_counts
        WHERE day >= $1 AND day <= $2 AND clients <> 0
        GROUP BY 1, 2, 3
        """;

    public static async Task<Response> ReadAsync(NpgsqlDataSource db, AnalyticsQuery query, CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(BeforeSql) { Parameters = { new NpgsqlParameter<DateOnly> { TypedValue = query.From } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RangeSql)
        {
            Parameters =
            {
                new NpgsqlParameter<DateOnly> { TypedValue = query.From },
                new NpgsqlParameter<DateOnly> { TypedValue = query.To },
                new NpgsqlParameter<string> { TypedValue = TruncField(query.Granularity) },
            },
        });

        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        long runningTotal = reader.GetInt64(0), runningActive = reader.GetInt64(1);
        await reader.NextResultAsync(ct);

        var periods = query.Periods();
        var byPeriod = periods.ToDictionary(p => p, _ => new Buckets());
        while (await reader.ReadAsync(ct))
        {
            var buckets = byPeriod[reader.GetFieldValue<DateOnly>(0)];
            var (status, program, clients) = (reader.GetString(1), reader.GetString(2), reader.GetInt64(3));
            buckets.Total += clients;
            buckets.ByStatus[status] = buckets.ByStatus.GetValueOrDefault(status) + clients;
            buckets.ByProgramType[program] = buckets.ByProgramType.GetValueOrDefault(program) + clients;
        }

        var newClients = new List<PeriodCounts>(periods.Count);
        var trend = new List<ActiveRatePoint>(periods.Count);
        var distribution = ClientRules.Statuses.ToDictionary(s => s, _ => 0L);
        foreach (var period in periods)
        {
            var buckets = byPeriod[period];
            newClients.Add(new PeriodCounts(period, buckets.Total, Complete(buckets.ByProgramType, ClientRules.ProgramTypes), Complete(buckets.ByStatus, ClientRules.Statuses)));
            foreach (var (status, clients) in buckets.ByStatus)
            {
                distribution[status] += clients;
            }

            runningTotal += buckets.Total;
            runningActive += buckets.ByStatus.GetValueOrDefault("active");
            trend.Add(new ActiveRatePoint(period, runningTotal, Rate(runningActive, runningTotal)));
        }

        return new Response(query.From, query.To, query.Granularity, newClients, distribution, trend);
    }

    private static string TruncField(Granularity granularity) => granularity switch
    {
        Granularity.Week => "week",
        Granularity.Month => "month",
        _ => "day",
    };

    /// <summary>Same rounding as the dashboard (half away from zero, two decimals; 0 when there is nobody).</summary>
    public static decimal Rate(long active, long total) =>
        total == 0 ? 0m : Math.Round(100m * active / total, 2, MidpointRounding.AwayFromZero);

    private static Dictionary<string, long> Complete(Dictionary<string, long> counts, IReadOnlyList<string> keys) =>
        keys.ToDictionary(k => k, k => counts.GetValueOrDefault(k));

    private sealed class Buckets
    {
        public long Total { get; set; }
        public Dictionary<string, long> ByStatus { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, long> ByProgramType { get; } = new(StringComparer.Ordinal);
    }
}
