using System.Net;
using System.Net.Http.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class PatchAndDeleteTests(StackFixture stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task PatchChangesOnlyTheGivenFieldsAndBumpsTheVersion()
    {
        var created = await _api.CreateOkAsync("Patch Me", ClientsApiDriver.UniqueEmail(), "PRIME");

        var response = await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{created.Id}", new { status = "INACTIVE", programType = "longevity" });

        var patched = await ClientsApiDriver.ReadAsync<ClientDto>(response);
        Assert.Equal(created with { Status = "inactive", ProgramType = "LONGEVITY", Version = 2, UpdatedAt = patched.UpdatedAt }, patched);
        Assert.True(patched.UpdatedAt > created.UpdatedAt);
        Assert.Equal($"\"{created.Id}.2\"", response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task PatchWithTheCurrentETagApplies()
    {
        var created = await _api.CreateOkAsync("Etag Current", ClientsApiDriver.UniqueEmail());
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/clients/{created.Id}") { Content = JsonContent.Create(new { name = "Etag Applied" }) };
        request.Headers.IfMatch.ParseAdd($"\"{created.Id}.1\"");

        var patched = await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.SendAsync(request));

        Assert.Equal("Etag Applied", patched.Name);
    }

    [Fact]
    public async Task PatchWithAStaleETagIs412AndChangesNothing()
    {
        var created = await _api.CreateOkAsync("Etag Stale", ClientsApiDriver.UniqueEmail());
        await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{created.Id}", new { name = "Changed Meanwhile" });
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/clients/{created.Id}") { Content = JsonContent.Create(new { name = "Too Late" }) };
        request.Headers.IfMatch.ParseAdd($"\"{created.Id}.1\"");

        var response = await _api.Http.SendAsync(request);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Contains($"\"{created.Id}.2\"", problem.Detail);
        var current = await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{created.Id}"));
        Assert.Equal("Changed Meanwhile", current.Name);
    }

    [Fact]
    public async Task PatchToAnEmailAnotherClientHasIs409AndChangesNothing()
    {
        var taken = await _api.CreateOkAsync("Owner", ClientsApiDriver.UniqueEmail());
        var other = await _api.CreateOkAsync("Other", ClientsApiDriver.UniqueEmail());

        var response = await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{other.Id}", new { email = taken.Email.ToUpperInvariant() });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.Conflict);
        Assert.Contains(problem.Errors, e => e is { Name: "email", Code: "email_taken" });
        Assert.Equal(other, await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{other.Id}")));
    }

    [Theory]
    [InlineData("{}", "body", "empty_patch")]
    [InlineData("{\"status\":\"zombie\"}", "status", "status_unknown")]
    [InlineData("{\"email\":\"nope\"}", "email", "email_invalid")]
    [InlineData("{\"name\":\"   \"}", "name", "name_required")]
    [InlineData("{\"nickname\":\"x\"}", "nickname", "unknown_field")]
    public async Task APatchThatBreaksARuleIs400AndChangesNothing(string body, string field, string code)
    {
        var created = await _api.CreateOkAsync("Rule Breaker", ClientsApiDriver.UniqueEmail());

        var response = await _api.Http.PatchAsync($"/api/v1/clients/{created.Id}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == field && e.Code == code);
        Assert.Equal(created, await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{created.Id}")));
    }

    [Fact]
    public async Task PatchOfAnUnknownIdIs404()
    {
        var response = await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{long.MaxValue}", new { status = "active" });

        await Problem.ReadAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteRemovesTheClientOnceThenIs404()
    {
        var created = await _api.CreateOkAsync("Delete Me", ClientsApiDriver.UniqueEmail());

        var first = await _api.Http.DeleteAsync($"/api/v1/clients/{created.Id}");
        var second = await _api.Http.DeleteAsync($"/api/v1/clients/{created.Id}");

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        await Problem.ReadAsync(second, HttpStatusCode.NotFound);
        Assert.Equal(0, await _api.CountByEmailAsync(created.Email));
    }
}
