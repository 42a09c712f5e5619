using System.Globalization;
using NexusCore.Bench.Load;

namespace NexusCore.Bench.Scenarios;

/// <summary>
/// The seed's read operations: the API request the product answers ("after") and the SQL the seed's
/// design ran for the same question ("before": <see cref="BeforeSchema"/>, offset pagination, the
/// aggregate dashboard function, counts scanned from the table).
/// </summary>
public sealed record ReadOperation(string Key, string Title, Workload After, IReadOnlyList<string> BeforeScripts, string BeforeSql);

public static class Operations
{
    public const string Columns = "id, name, email, status, program_type, created_at, updated_at, version";

    public const string ClientsApi = "/api/v1/clients/";
    public const string Optimized = "/api/v1/optimized/clients/";

    /// <summary>The product's get-by-id statement, as ClientsApi sends it (Features/Clients/Get/Data.cs).</summary>
    public const string ProductGetSql = $"SELECT {Columns} FROM clients WHERE id = $1";

    public static IReadOnlyList<ReadOperation> Reads(Fixtures f, string deepCursorPath, int deepOffset)
    {
        var q = Uri.EscapeDataString(f.SelectiveQ);
        var from = f.AnalyticsFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = f.AnalyticsTo.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var toExclusive = f.AnalyticsTo.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var pickable = f.ReservedFrom - 1;
        var table = BeforeSchema.Table;

        var searchFiltersSql = $"""
            SELECT {Columns} FROM {table} WHERE status = 'active' AND program_type = 'PRIME' ORDER BY created_at DESC LIMIT 50 OFFSET 0;
            SELECT count(*) FROM {table} WHERE status = 'active' AND program_type = 'PRIME';
            """;
        var searchQSql = $"""
            SELECT {Columns} FROM {table} WHERE search_vector @@ plainto_tsquery('simple', {Fixtures.SqlLiteral(f.SelectiveQ)}) ORDER BY created_at DESC LIMIT 50 OFFSET 0;
            SELECT count(*) FROM {table} WHERE search_vector @@ plainto_tsquery('simple', {Fixtures.SqlLiteral(f.SelectiveQ)});
            """;
        var deepSql = $"SELECT {Columns} FROM {table} ORDER BY created_at DESC LIMIT 50 OFFSET {deepOffset};";
        var analyticsSql = $"""
            SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM {table} WHERE created_at < '{from}';
            SELECT date_trunc('week', created_at) AS week, program_type, status, count(*) FROM {table}
            WHERE created_at >= '{from}' AND created_at < '{toExclusive}' GROUP BY 1, 2, 3;
            """;
        var byIdsScripts = f.IdLists.Take(8)
            .Select(ids => $"SELECT {Columns} FROM {table} WHERE id = ANY({Fixtures.IdArrayLiteral(ids)});")
            .ToList();
        var getSql = $"""
            \set id random(1, {pickable})
            SELECT {Columns} FROM {table} WHERE id = :id;
            """;

        return
        [
            new("dashboard", "Dashboard", Workload.Get("dashboard", Optimized + "dashboard"),
                [$"SELECT * FROM bench_before.get_client_dashboard_metrics();"],
                "get_client_dashboard_metrics(): one aggregate over every row"),
            new("search-filters", "Search, filters only (first page + exact count)",
                Workload.Get("search-filters", Optimized + "search/advanced?status=active&programType=PRIME&count=exact&limit=50"),
                [searchFiltersSql],
                "status/program filter, ORDER BY created_at DESC LIMIT 50 OFFSET 0, plus count(*) over the matches"),
            new("search-q", "Search, selective q (first page + exact count)",
                Workload.Get("search-q", Optimized + $"search/advanced?q={q}&count=exact&limit=50"),
                [searchQSql],
                "full-text match on the GIN index, ORDER BY created_at DESC LIMIT 50 OFFSET 0, plus count(*)"),
            new("search-deep", $"Search, deep page ({deepOffset:N0} rows in)",
                Workload.Get("search-deep", deepCursorPath),
                [deepSql],
                $"ORDER BY created_at DESC LIMIT 50 OFFSET {deepOffset}"),
            new("analytics", "Analytics, one year by week",
                Workload.Get("analytics", Optimized + $"analytics/performance?from={from}&to={to}&granularity=week"),
                [analyticsSql],
                "GROUP BY week, program type, status over the year's rows, plus the totals before it"),
            new("by-ids", $"By ids ({Fixtures.IdsPerList})",
                new Workload("by-ids", f.IdLists.Select(ids => new HttpRequestSpec("POST", Optimized + "by-ids", Fixtures.IdsJson(ids))).ToList()),
                byIdsScripts,
                "WHERE id = ANY(100 ids)"),
            new("get", "Get one client by id",
                new Workload("get-hot", f.HotIds.Select(id => new HttpRequestSpec("GET", ClientsApi + id.ToString(CultureInfo.InvariantCulture))).ToList()),
                [getSql],
                "WHERE id = $1 (random ids)"),
        ];
    }

    /// <summary>GET by id over every client (uniform): the uncached instance's workload, so the buffer cache is exercised too.</summary>
    public static Workload UniformGet(Fixtures f) => new("get-uniform", IdPath: ClientsApi, IdMax: f.ReservedFrom - 1);

    /// <summary>pgbench running the product's get-by-id statement (the same SQL text ClientsApi sends).</summary>
    public static string ProductGetScript(Fixtures f) => $"""
        \set id random(1, {f.ReservedFrom - 1})
        SELECT {Columns} FROM clients WHERE id = :id;
        """;

    /// <summary>The seed's export: 1,000-row OFFSET pages; a uniformly random page has the mean cost of a full walk.</summary>
    public static string BeforeExportScript(long clients) => $"""
        \set off random(0, {Math.Max(0, clients - 1000)})
        SELECT {Columns} FROM {BeforeSchema.Table} ORDER BY id LIMIT 1000 OFFSET :off;
        """;

    /// <summary>The seed's bulk path: one INSERT per row, each its own transaction.</summary>
    public const string BeforeRowInsertScript = $"""
        INSERT INTO {BeforeSchema.Table} (name, email, status, program_type)
        VALUES ('Bench Before', 'before.' || gen_random_uuid() || '@bench.nexuscore.test', 'active', 'PRIME');
        """;

    public const string ExportPath = Optimized + "bulk-export";
    public const string BatchPath = Optimized + "batch";
}
