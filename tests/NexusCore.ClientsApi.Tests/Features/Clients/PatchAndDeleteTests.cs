using System.Net;
using System.Net.Http.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class PatchAndDeleteTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task PatchChangesOnlyTheGivenFieldsAndBumpsTheVersion()
    {
        var created = await _api.CreateOkAsync("Patch Me", ClientsApiDriver.UniqueEmail(), "PRIME");

        var response = await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{created.Id}", new { status = "inactive", programType = "LONGEVITY" });

        var patched = await ClientsApiDriver.ReadAsync<ClientDto>(response);
        Assert.Equal(created with { Status = "inactive", ProgramType = "LONGEVITY", Version = 2, UpdatedAt = patched.UpdatedAt }, patched);
        Assert.True(patched.UpdatedAt > created.UpdatedAt);
        Assert.Equal($"\"{created.Id}.2\"", response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task APatchWithAStatusInAnotherLetterCaseIsRefusedAndChangesNothing()
    {
        var created = await _api.CreateOkAsync("Patch Case", ClientsApiDriver.UniqueEmail(), "PRIME");

        var response = await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{created.Id}", new { status = "INACTIVE" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("status_unknown", problem.Errors.Single().Code);
        var current = await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Reader.GetAsync($"/api/v1/clients/{created.Id}"));
        Assert.Equal(("active", 1), (current.Status, current.Version));
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
    public async Task IfMatchStarAppliesToAnExistingClientAndAnUnknownIdIsStill404()
    {
        var created = await _api.CreateOkAsync("Etag Star", ClientsApiDriver.UniqueEmail());

        var applied = await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.SendAsync(PatchIfMatch(created.Id, "*", "Star Applied")));
        var missing = await _api.Http.SendAsync(PatchIfMatch(9_000_000_000, "*", "Nobody"));

        Assert.Equal(("Star Applied", 2), (applied.Name, applied.Version));
        await Problem.ReadAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AnIfMatchListAppliesWhenOneOfItsTagsIsCurrentWeakOrNot()
    {
        var created = await _api.CreateOkAsync("Etag List", ClientsApiDriver.UniqueEmail());

        var response = await _api.Http.SendAsync(PatchIfMatch(created.Id, $"\"{created.Id}.7\", W/\"{created.Id}.1\"", "List Applied"));

        var patched = await ClientsApiDriver.ReadAsync<ClientDto>(response);
        Assert.Equal(("List Applied", 2), (patched.Name, patched.Version));
    }

    [Fact]
    public async Task AnIfMatchNamingAnotherClientIs412WithTheCurrentETagAndChangesNothing()
    {
        var created = await _api.CreateOkAsync("Etag Mine", ClientsApiDriver.UniqueEmail());
        var other = await _api.CreateOkAsync("Etag Theirs", ClientsApiDriver.UniqueEmail());

        var response = await _api.Http.SendAsync(PatchIfMatch(created.Id, $"\"{other.Id}.1\"", "Not Applied"));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Contains($"\"{created.Id}.1\"", problem.Detail);
        Assert.Equal($"\"{created.Id}.1\"", response.Headers.ETag?.ToString());
        var current = await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{created.Id}"));
        Assert.Equal(("Etag Mine", 1), (current.Name, current.Version));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.1")]
    [InlineData("\"unterminated")]
    [InlineData("\"a b\"")]
    [InlineData("*, \"1.1\"")]
    public async Task AnIfMatchThatIsNotAnEntityTagListIs400NamingItAndChangesNothing(string ifMatch)
    {
        var created = await _api.CreateOkAsync("Etag Junk", ClientsApiDriver.UniqueEmail());

        var response = await _api.Http.SendAsync(PatchIfMatch(created.Id, ifMatch, "Not Applied"));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(problem.Errors);
        Assert.Equal(("if-match", "if_match_invalid"), (error.Name, error.Code));
        var current = await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{created.Id}"));
        Assert.Equal(("Etag Junk", 1), (current.Name, current.Version));
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

    [Fact]
    public async Task ATakenEmailIsJudgedAfterTheClientAndItsVersion()
    {
        // The taken email is found by the UPDATE's own condition, not by an error: a missing client is
        // still 404 and a stale If-Match still 412, as when a unique violation told the cases apart.
        var owner = await _api.CreateOkAsync("Owner", ClientsApiDriver.UniqueEmail());
        var other = await _api.CreateOkAsync("Other", ClientsApiDriver.UniqueEmail());

        var missing = await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{long.MaxValue}", new { email = owner.Email });
        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/clients/{other.Id}") { Content = JsonContent.Create(new { email = owner.Email }) };
        stale.Headers.TryAddWithoutValidation("If-Match", $"\"{other.Id}.7\"");
        var staleResponse = await _api.Http.SendAsync(stale);
        var current = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/clients/{other.Id}") { Content = JsonContent.Create(new { email = owner.Email }) };
        current.Headers.TryAddWithoutValidation("If-Match", $"\"{other.Id}.1\"");
        var currentResponse = await _api.Http.SendAsync(current);
        var ownEmailInOtherCase = await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{owner.Id}", new { email = owner.Email.ToUpperInvariant() });

        await Problem.ReadAsync(missing, HttpStatusCode.NotFound);
        await Problem.ReadAsync(staleResponse, HttpStatusCode.PreconditionFailed);
        Assert.Contains((await Problem.ReadAsync(currentResponse, HttpStatusCode.Conflict)).Errors, e => e is { Name: "email", Code: "email_taken" });
        Assert.Equal(other, await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{other.Id}")));
        Assert.Equal(owner.Email.ToUpperInvariant(), (await ClientsApiDriver.ReadAsync<ClientDto>(ownEmailInOtherCase)).Email);
    }

    [Fact]
    public async Task APatchRacingAWriterOfTheSameEmailIs409AndChangesNothing()
    {
        // A writer has inserted the email and not committed: the PATCH's check cannot see it, its
        // UPDATE waits on the unique index until that writer commits, then fails with a unique violation.
        // That is the one path where Postgres still logs the error (its DETAIL is left out for
        // ClientsApi's role by the database's log_error_verbosity); the answer is the same 409.
        var contested = ClientsApiDriver.UniqueEmail("racing");
        var patched = await _api.CreateOkAsync("Racer", ClientsApiDriver.UniqueEmail());
        await using var connection = await _api.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO clients (name, email, program_type) VALUES ('First', $1, 'PRIME')", connection, transaction))
        {
            insert.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = contested });
            await insert.ExecuteNonQueryAsync();
        }

        var patch = _api.Http.PatchAsJsonAsync($"/api/v1/clients/{patched.Id}", new { email = contested, name = "Not Applied" });
        await Eventually.ThatAsync(async () => (await _api.QueryAsync(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE clients%'", r => r.GetInt64(0)))[0] == 1,
            TimeSpan.FromSeconds(30), "the PATCH never waited on the uncommitted email");
        await transaction.CommitAsync();

        var problem = await Problem.ReadAsync(await patch, HttpStatusCode.Conflict);
        Assert.Contains(problem.Errors, e => e is { Name: "email", Code: "email_taken" });
        Assert.Equal(patched, await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{patched.Id}")));
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

    [Fact]
    public async Task DeleteWithTheCurrentETagDeletes()
    {
        var created = await _api.CreateOkAsync("Delete Current", ClientsApiDriver.UniqueEmail());

        var response = await _api.Http.SendAsync(DeleteIfMatch(created.Id, $"W/\"{created.Id}.9\", \"{created.Id}.1\""));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(0, await _api.CountByEmailAsync(created.Email));
    }

    [Fact]
    public async Task DeleteWithAStaleETagIs412WithTheCurrentETagAndDeletesNothing()
    {
        var created = await _api.CreateOkAsync("Delete Stale", ClientsApiDriver.UniqueEmail());
        await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{created.Id}", new { name = "Delete Stale Renamed" }));

        var response = await _api.Http.SendAsync(DeleteIfMatch(created.Id, $"\"{created.Id}.1\""));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal($"\"{created.Id}.2\"", response.Headers.ETag?.ToString());
        Assert.Contains($"\"{created.Id}.2\"", problem.Detail);
        Assert.Equal(1, await _api.CountByEmailAsync(created.Email));
    }

    [Fact]
    public async Task DeleteIfMatchStarDeletesAnExistingClientAndAnUnknownIdIsStill404()
    {
        var created = await _api.CreateOkAsync("Delete Star", ClientsApiDriver.UniqueEmail());

        var deleted = await _api.Http.SendAsync(DeleteIfMatch(created.Id, "*"));
        var unknown = await _api.Http.SendAsync(DeleteIfMatch(long.MaxValue, "*"));
        var stale = await _api.Http.SendAsync(DeleteIfMatch(created.Id, $"\"{created.Id}.1\""));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Problem.ReadAsync(unknown, HttpStatusCode.NotFound);
        await Problem.ReadAsync(stale, HttpStatusCode.NotFound);
        Assert.Equal(0, await _api.CountByEmailAsync(created.Email));
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("\"a b\"")]
    [InlineData("*, \"1.1\"")]
    public async Task DeleteWithAnIfMatchThatIsNotAnEntityTagListIs400NamingItAndDeletesNothing(string ifMatch)
    {
        var created = await _api.CreateOkAsync("Delete Malformed", ClientsApiDriver.UniqueEmail());

        var response = await _api.Http.SendAsync(DeleteIfMatch(created.Id, ifMatch));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(problem.Errors);
        Assert.Equal(("if-match", "if_match_invalid"), (error.Name, error.Code));
        Assert.Equal(1, await _api.CountByEmailAsync(created.Email));
    }

    private static HttpRequestMessage DeleteIfMatch(long id, string ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/clients/{id}");
        Assert.True(request.Headers.TryAddWithoutValidation("If-Match", ifMatch));
        return request;
    }

    private static HttpRequestMessage PatchIfMatch(long id, string ifMatch, string name)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/clients/{id}") { Content = JsonContent.Create(new { name }) };
        Assert.True(request.Headers.TryAddWithoutValidation("If-Match", ifMatch));
        return request;
    }
}
