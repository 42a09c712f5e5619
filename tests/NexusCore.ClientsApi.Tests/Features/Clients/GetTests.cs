using System.Net;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class GetTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task GetReturnsExactlyWhatCreateStored()
    {
        var email = ClientsApiDriver.UniqueEmail();
        var created = await Problem.ReadJsonAsync<ClientDto>(
            await _api.CreateAsync(new { name = "Katherine Johnson", email, programType = "PERFORMANCE", status = "inactive" }));

        var response = await _api.Http.GetAsync($"/api/v1/clients/{created!.Id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(created, await Problem.ReadJsonAsync<ClientDto>(response));
    }

    [Fact]
    public async Task AJsonContentTypeOnABodylessGetIsIgnored()
    {
        // Some HTTP clients send Content-Type: application/json on every request, GETs included.
        var created = await _api.CreateOkAsync("Grace Hopper", ClientsApiDriver.UniqueEmail());
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/clients/{created.Id}")
        {
            Content = new ByteArrayContent([]) { Headers = { ContentType = new("application/json") } },
        };

        var response = await _api.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(created, await Problem.ReadJsonAsync<ClientDto>(response));
    }

    [Fact]
    public async Task AnUnknownIdIsA404Problem()
    {
        var response = await _api.Http.GetAsync($"/api/v1/clients/{long.MaxValue}");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("https://nexuscore.dev/problems/not-found", problem.Type);
        Assert.Contains(long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.Detail);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public async Task AnIdThatIsNotANumberIsA400NamingTheId(string id)
    {
        var response = await _api.Http.GetAsync($"/api/v1/clients/{id}");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == "id");
    }
}
