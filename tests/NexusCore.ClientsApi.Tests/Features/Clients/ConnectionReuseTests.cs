using System.Net;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class ConnectionReuseTests(ClientsApiStack stack)
{
    private const int Reads = 60;
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task ReadsReuseConnectionsWithoutResettingThemEachTime()
    {
        // Fresh rows, read once each: every GET misses the cache and queries Postgres on a pooled connection.
        var created = new List<ClientDto>();
        for (var i = 0; i < Reads; i++)
        {
            created.Add(await _api.InsertAsync($"Reused {i}"));
        }

        var (resetsBefore, findsBefore) = await CallsAsync();
        foreach (var client in created)
        {
            var response = await _api.Reader.GetAsync($"/api/v1/clients/{client.Id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (resetsAfter, findsAfter) = await CallsAsync();

        // Npgsql would reset each connection handed back to the pool (DISCARD ALL, or RESET ALL and
        // three more once statements are prepared), one reset per read. The few allowed here are the
        // tests' and PerfApi's own pools, which do reset.
        Assert.True(findsAfter - findsBefore >= Reads, $"{findsAfter - findsBefore} finds");
        Assert.True(resetsAfter - resetsBefore <= 10, $"{resetsAfter - resetsBefore} resets for {Reads} reads");
    }

    private async Task<(long Resets, long Finds)> CallsAsync() => (await _api.QueryAsync(
        """
        SELECT coalesce(sum(calls) FILTER (WHERE query IN ('DISCARD ALL', 'RESET ALL')), 0)::bigint,
               coalesce(sum(calls) FILTER (WHERE query LIKE 'SELECT id, name, email, status, program_type, created_at, updated_at, version FROM clients WHERE id = $1%'), 0)::bigint
        FROM pg_stat_statements
        """,
        r => (r.GetInt64(0), r.GetInt64(1))))[0];
}
