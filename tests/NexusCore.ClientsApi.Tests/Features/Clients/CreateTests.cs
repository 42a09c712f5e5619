using System.Net;
using System.Net.Http.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class CreateTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task CreateStoresTheClientNormalizedAndReturnsItWithItsLocation()
    {
        var email = ClientsApiDriver.UniqueEmail("Ada");
        var before = DateTime.UtcNow.AddSeconds(-5);

        var response = await _api.CreateAsync(new { name = "  Ada Lovelace ", email, programType = "LONGEVITY", status = "pending" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await Problem.ReadJsonAsync<ClientDto>(response);
        Assert.NotNull(created);
        Assert.True(created.Id > 0);
        Assert.Equal("Ada Lovelace", created.Name);
        Assert.Equal(email, created.Email);
        Assert.Equal("pending", created.Status);
        Assert.Equal("LONGEVITY", created.ProgramType);
        Assert.Equal(1, created.Version);
        Assert.InRange(created.CreatedAt, before, DateTime.UtcNow.AddSeconds(5));
        Assert.Equal(created.CreatedAt, created.UpdatedAt);
        Assert.Equal($"/api/v1/clients/{created.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(1, await _api.CountByEmailAsync(email));
    }

    [Theory]
    [InlineData("longevity", null)]
    [InlineData("PRIME", "Pending")]
    [InlineData(" PRIME", null)]
    [InlineData("PRIME", "ACTIVE")]
    public async Task AStatusOrProgramTypeNotExactlyAsDocumentedIsRefusedAndWritesNothing(string programType, string? status)
    {
        var email = ClientsApiDriver.UniqueEmail("Case");

        var response = await _api.CreateAsync(new { name = "Letter Case", email, programType, status });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Code is "status_unknown" or "program_type_unknown");
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task TheCreatedClientsETagIsTheOneGetReturnsAndAPatchWithItApplies()
    {
        var response = await _api.CreateAsync(new { name = "Etag On Create", email = ClientsApiDriver.UniqueEmail(), programType = "PRIME" });
        var created = await Problem.ReadJsonAsync<ClientDto>(response);
        var get = await _api.Reader.GetAsync($"/api/v1/clients/{created!.Id}");
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/clients/{created.Id}") { Content = JsonContent.Create(new { name = "Etag After Create" }) };
        patch.Headers.IfMatch.Add(response.Headers.ETag!);

        var patched = await _api.Http.SendAsync(patch);

        Assert.Equal($"\"{created.Id}.1\"", response.Headers.ETag?.ToString());
        Assert.Equal(response.Headers.ETag, get.Headers.ETag);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal($"\"{created.Id}.2\"", patched.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task StatusDefaultsToActive()
    {
        var response = await _api.CreateAsync(new { name = "Grace Hopper", email = ClientsApiDriver.UniqueEmail(), programType = "PRIME" });

        var created = await Problem.ReadJsonAsync<ClientDto>(response);
        Assert.Equal("active", created!.Status);
    }

    [Fact]
    public async Task AnEmailTakenInAnyLetterCaseIsAConflictAndWritesNothing()
    {
        var email = ClientsApiDriver.UniqueEmail("Taken");
        Assert.Equal(HttpStatusCode.Created, (await _api.CreateAsync(new { name = "First", email, programType = "PRIME" })).StatusCode);

        var response = await _api.CreateAsync(new { name = "Second", email = email.ToUpperInvariant(), programType = "PRIME" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("https://nexuscore.dev/problems/conflict", problem.Type);
        Assert.Contains(problem.Errors, e => e is { Name: "email", Code: "email_taken" });
        Assert.Equal(1, await _api.CountByEmailAsync(email));
    }

    [Theory]
    [InlineData("not an email", "email", "email_invalid")]
    [InlineData("two@@example.com", "email", "email_invalid")]
    [InlineData("no-domain-dot@example", "email", "email_invalid")]
    [InlineData("spaces in@example.com", "email", "email_invalid")]
    public async Task AMalformedEmailIsRejectedNamingTheField(string email, string field, string code)
    {
        var response = await _api.CreateAsync(new { name = "Bad Email", email, programType = "PRIME" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == field && e.Code == code);
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task AMissingNameIsRejectedNamingTheField()
    {
        var email = ClientsApiDriver.UniqueEmail();

        var response = await _api.CreateAsync(new { email, programType = "PRIME" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e is { Name: "name", Code: "name_required" });
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task ANameOverTwoHundredCharactersIsRejected()
    {
        var email = ClientsApiDriver.UniqueEmail();

        var response = await _api.CreateAsync(new { name = new string('x', 201), email, programType = "PRIME" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e is { Name: "name", Code: "name_too_long" });
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task AnUnknownStatusIsRejectedListingTheAllowedValues()
    {
        var email = ClientsApiDriver.UniqueEmail();

        var response = await _api.CreateAsync(new { name = "Unknown Status", email, programType = "PRIME", status = "zombie" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(problem.Errors);
        Assert.Equal(("status", "status_unknown"), (error.Name, error.Code));
        Assert.Contains("active, inactive, pending", error.Reason);
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task AnUnknownProgramTypeIsRejectedListingTheAllowedValues()
    {
        var email = ClientsApiDriver.UniqueEmail();

        var response = await _api.CreateAsync(new { name = "Unknown Program", email, programType = "GOLD" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(problem.Errors);
        Assert.Equal(("programType", "program_type_unknown"), (error.Name, error.Code));
        Assert.Contains("PRIME, LONGEVITY, PERFORMANCE", error.Reason);
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Theory]
    [InlineData("not json", "body", "invalid_json")]
    [InlineData("", "body", "invalid_json")]
    [InlineData("[]", "body", "invalid_json")]
    [InlineData("{\"name\": \"A\", \"email\": ", "body", "invalid_json")]
    [InlineData("{\"name\": 5, \"email\": \"x@example.com\", \"programType\": \"PRIME\"}", "name", "invalid_type")]
    [InlineData("{\"name\": \"A\", \"email\": \"x@example.com\", \"programType\": \"PRIME\", \"isVip\": true}", "isVip", "unknown_field")]
    public async Task ABodyThatIsNotTheExpectedJsonIsRejectedNamingTheProblem(string body, string field, string code)
    {
        var before = await _api.CountAllAsync();

        var response = await _api.PostRawAsync(body);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == field && e.Code == code);
        Assert.DoesNotContain(problem.Errors, e => e.Reason.Contains("NexusCore.", StringComparison.Ordinal));
        Assert.Equal(before, await _api.CountAllAsync());
    }

    [Fact]
    public async Task SqlLookingTextIsStoredAsText()
    {
        var email = ClientsApiDriver.UniqueEmail();
        const string name = "Robert'); DROP TABLE clients; --";

        var response = await _api.CreateAsync(new { name, email, programType = "PRIME" });

        var created = await Problem.ReadJsonAsync<ClientDto>(response);
        Assert.Equal(name, created!.Name);
        Assert.Equal(1, await _api.CountByEmailAsync(email));
    }
}
