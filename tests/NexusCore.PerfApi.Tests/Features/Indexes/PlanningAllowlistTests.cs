
using NexusCore.PerfApi.Analysis.Indexes;
namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// What the advisor agrees to plan: the product's own statements (as pg_stat_statements shows ClientsApi's, literals
/// as <c>$n</c>) pass; every way of making the planner run other code is refused with its fixed reason.
/// </summary>
[NoStack]
public sealed class PlanningAllowlistTests
{
    private const string Columns = "id, name, email, status, program_type, created_at, updated_at, version";

    [Theory]
    [InlineData($"SELECT {Columns} FROM clients WHERE id = $1")]
    [InlineData($"SELECT {Columns} FROM clients WHERE id = ANY($1)")]
    [InlineData("DELETE FROM clients WHERE id = ANY($1) RETURNING id")]
    [InlineData("DELETE FROM clients WHERE id = $1 AND ($2::int[] IS NULL OR version = ANY($2))")]
    [InlineData("SELECT id, lower(email) FROM clients WHERE lower(email) = ANY($1)")]
    [InlineData($"""
        UPDATE clients
        SET name = coalesce($2, name), email = coalesce($3, email), status = coalesce($4, status),
            program_type = coalesce($5, program_type), updated_at = now(), version = version + $7
        WHERE id = $1 AND ($6::int[] IS NULL OR version = ANY($6))
        RETURNING {Columns}
        """)]
    [InlineData("""
        UPDATE clients AS c
        SET name = coalesce(u.name, c.name), updated_at = now(), version = c.version + $6
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, name, email, status, program_type)
        WHERE c.id = u.id
        RETURNING c.id, c.version
        """)]
    [InlineData("""
        SELECT coalesce(sum(clients), $1)::bigint,
               coalesce(sum(clients) FILTER (WHERE status = $2), $3)::bigint
        FROM client_daily_counts
        WHERE day < $4
        """)]
    [InlineData("""
        SELECT date_trunc($3, day::timestamp)::date, status, program_type, sum(clients)::bigint
        FROM client_daily_counts
        WHERE day >= $1 AND day <= $2 AND clients <> $4
        GROUP BY 1, 2, 3
        """)]
    [InlineData("""
        WITH totals AS (
            SELECT coalesce(sum(clients), $1)::bigint AS total,
                   coalesce(sum(clients) FILTER (WHERE status = $2), $3)::bigint AS active
            FROM client_counts
        )
        SELECT total, active, coalesce(round($4 * active / nullif(total, $5), $6), $7)::numeric(5, 2)
        FROM totals
        """)]
    [InlineData($"SELECT {Columns} FROM clients WHERE status = ANY($1) AND created_at >= $2 AND (search_vector @@ websearch_to_tsquery($3, $4) OR lower(name || $5 || email) LIKE $6) AND (lower(name), id) > (lower($7), $8) ORDER BY lower(name), id LIMIT $9")]
    [InlineData("SELECT count(*) FROM clients WHERE search_vector @@ to_tsquery($1, $2)")]
    [InlineData("SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at > now() - make_interval(hours => $3)")]
    [InlineData("SELECT * FROM get_client_dashboard_metrics();")]
    [InlineData("SELECT pg_catalog.lower(name) FROM clients WHERE CAST($1 AS numeric(5, 2)) > $2::double precision AND updated_at < $3::timestamp with time zone")]
    [InlineData("WITH c(a, b) AS (SELECT id, name FROM clients) SELECT a FROM c JOIN (SELECT 1 AS x) s ON s.x = c.a WHERE b LIKE $1 AND interval $2 > $3")]
    [InlineData("SELECT count(*), max(pad), min(id), avg(code) FROM t WHERE code BETWEEN $1 AND $2 AND EXISTS (SELECT 1 FROM u WHERE u.id = t.id) ORDER BY 1 FETCH FIRST $3 ROWS ONLY")]
    public void TheProductsOwnStatementsMayBePlanned(string sql) =>
        Assert.Null(PlanningAllowlist.Refusal(sql));

    [Theory]
    [InlineData("SELECT id FROM clients WHERE name = (table_to_xml('pg_authid', true, false, ''))::text::int")]
    [InlineData("SELECT id FROM clients WHERE lookup = $1 AND code = database_to_xml(true, true, '')::text::int")]
    [InlineData("SELECT id FROM clients WHERE name = \"table_to_xml\"($1, true, false, '')::text")]
    [InlineData("SELECT id FROM clients WHERE name = pg_catalog.query_to_xml($1, true, false, '')::text")]
    [InlineData("SELECT id FROM clients WHERE lower(name) = public.lower($1)")]
    [InlineData("SELECT id FROM clients WHERE id = length(current_setting($1))")]
    [InlineData("SELECT id FROM clients WHERE x = like($1, $2)")]
    [InlineData("SELECT id FROM clients WHERE filter($1) AND id = $2")]
    [InlineData("SELECT id FROM clients, LATERAL evil($1) e WHERE id = e.x")]
    [InlineData("SELECT id FROM clients TABLESAMPLE bernoulli($1) WHERE id = $2")]
    [InlineData("SELECT id FROM clients WHERE id OPERATOR(pg_catalog.=) $1")]
    [InlineData("SELECT id FROM clients WHERE id = int8(length($1))")]
    [InlineData("SELECT id FROM clients WHERE id = $1 AND pg_sleep($2) IS NULL")]
    public void AFunctionOutsideTheAllowlistIsRefused(string sql) =>
        Assert.Equal(PlanningAllowlist.FunctionRefused, PlanningAllowlist.Refusal(sql));

    [Theory]
    [InlineData("SELECT id FROM clients WHERE name === $1")]
    [InlineData("SELECT id FROM clients WHERE id % $1 = $2")]
    [InlineData("SELECT id FROM clients WHERE name ~ $1")]
    [InlineData("SELECT id FROM clients WHERE data #>> $1 = $2")]
    [InlineData("SELECT id FROM clients WHERE name = $1 \u0001")]
    public void AnOperatorOutsideTheAllowlistIsRefused(string sql) =>
        Assert.Equal(PlanningAllowlist.OperatorRefused, PlanningAllowlist.Refusal(sql));

    [Theory]
    [InlineData("SELECT id FROM clients WHERE name = $1::regclass::text")]
    [InlineData("SELECT id FROM clients WHERE name = $1::\"text\"")]
    [InlineData("SELECT id FROM clients WHERE name = $1::public.my_type")]
    [InlineData("SELECT id FROM clients WHERE name = CAST($1 AS regclass)::text")]
    [InlineData("SELECT id FROM clients WHERE id = regclass $1")]
    [InlineData("SELECT id FROM clients WHERE id = \"my_type\" '1'")]
    public void ACastToATypeOutsideTheAllowlistIsRefused(string sql) =>
        Assert.Equal(PlanningAllowlist.TypeRefused, PlanningAllowlist.Refusal(sql));

    [Theory]
    [InlineData("SELECT id FROM clients WHERE name = 'unterminated")]
    [InlineData("SELECT id FROM clients WHERE (id = $1")]
    [InlineData("SELECT 1 \u0000")]
    public void ATextThatDoesNotReadIsRefused(string sql) =>
        Assert.Equal(PlanningAllowlist.Unreadable, PlanningAllowlist.Refusal(sql));

    [Theory]
    [InlineData("SELECT id FROM clients WHERE id = $1; DROP TABLE clients")]
    [InlineData("SELECT id FROM clients WHERE id = $1;;SELECT 1;")]
    public void MoreThanOneStatementIsRefused(string sql) =>
        Assert.Equal(PlanningAllowlist.SeveralStatements, PlanningAllowlist.Refusal(sql));
}
