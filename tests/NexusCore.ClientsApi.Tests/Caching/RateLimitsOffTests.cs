using System.Net;
using NexusCore.ClientsApi.Tests.Features.Clients;

namespace NexusCore.ClientsApi.Tests.Caching;

/// <summary>
/// <c>RateLimiting:Enabled=false</c> turns every limit off, including those of the routes that name a
/// policy of their own (batch, export): they must answer, not fail because the policy is missing.
/// </summary>
[Collection(ReplicatedCollection.Name)]
public sealed class RateLimitsOffTests(ReplicatedStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task WithLimitsOffBatchAndExportAnswerPastTheirDefaultBursts()
    {
        // With limits on, the 41st batch in a second (burst 40) and the 4th export (burst 3) answer 429.
        var token = ClientsApiDriver.Token();
        const int batches = 45;
        var statuses = await Task.WhenAll(Enumerable.Range(0, batches).Select(async i =>
        {
            using var response = await _api.BatchAsync(new
            {
                mode = "atomic",
                items = new[] { new { op = "create", name = $"Unlimited {token} {i}", email = ClientsApiDriver.UniqueEmail(token), programType = "PRIME" } },
            });
            return response.StatusCode;
        }));
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));

        var exported = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            using var response = await _api.Admin.GetAsync("/api/v1/optimized/clients/bulk-export?createdFrom=1900-01-01&createdTo=1900-01-02");
            return response.StatusCode;
        }));
        Assert.All(exported, status => Assert.Equal(HttpStatusCode.OK, status));

        var rows = await _api.QueryAsync("SELECT count(*) FROM clients WHERE email LIKE $1", r => r.GetInt64(0), token + ".%");
        Assert.Equal(batches, rows[0]);
    }
}
