using System.Net;
using System.Net.Http.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class SearchTests(ClientsApiStack stack)
{
    private const string Search = "/api/v1/optimized/clients/search/advanced";
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task QFindsWholeWordsAndSubstringsOfNamesAndEmailsOnly()
    {
        var token = ClientsApiDriver.Token();
        var word = await _api.CreateOkAsync($"Ada {token}", $"ada.{Guid.NewGuid():N}@example.com");
        var inEmail = await _api.CreateOkAsync("Grace Hopper", $"x{token}y@example.com");
        await _api.CreateOkAsync("Unrelated Person", ClientsApiDriver.UniqueEmail());

        var byWord = await PageAsync($"q={token}&count=exact");
        var bySubstring = await PageAsync($"q={token[2..9]}&count=exact");

        Assert.Equal([inEmail.Id, word.Id], byWord.Items.Select(c => c.Id));
        Assert.Equal(2, byWord.Count);
        Assert.Equal([inEmail.Id, word.Id], bySubstring.Items.Select(c => c.Id));
    }

    [Fact]
    public async Task FiltersCombineAndTheExactCountMatchesTheDatabase()
    {
        var token = ClientsApiDriver.Token();
        var rows = new[] { ("active", "PRIME"), ("active", "LONGEVITY"), ("inactive", "PRIME"), ("pending", "PERFORMANCE"), ("inactive", "LONGEVITY") };
        var created = new List<ClientDto>();
        foreach (var (status, program) in rows)
        {
            created.Add(await _api.CreateOkAsync($"Filter {token}", ClientsApiDriver.UniqueEmail(token), program, status));
        }

        var page = await PageAsync($"q={token}&status=active&status=inactive&programType=PRIME&programType=LONGEVITY&count=exact&sort=id&order=asc");

        var expected = created.Where(c => c.Status is "active" or "inactive" && c.ProgramType is "PRIME" or "LONGEVITY").Select(c => c.Id).ToList();
        Assert.Equal(expected, page.Items.Select(c => c.Id));
        Assert.Equal(4, page.Count);
        Assert.Equal("exact", page.CountMode);
    }

    [Fact]
    public async Task AShortFirstPageIsItsOwnExactCountAndAFullOneCountsEveryMatch()
    {
        var token = ClientsApiDriver.Token();
        var created = new List<ClientDto>();
        for (var i = 0; i < 3; i++)
        {
            created.Add(await _api.InsertAsync($"Counted {token} {i}"));
        }

        var before = await TextCountCallsAsync();
        var whole = await PageAsync($"q={token}&count=exact&limit=5&sort=id&order=asc");
        var afterWhole = await TextCountCallsAsync();
        var first = await PageAsync($"q={token}&count=exact&limit=2&sort=id&order=asc");
        var afterFirst = await TextCountCallsAsync();
        var second = await PageAsync($"q={token}&count=exact&limit=2&sort=id&order=asc&cursor={Uri.EscapeDataString(first.NextCursor!)}");

        Assert.Equal(created.Select(c => c.Id), whole.Items.Select(c => c.Id));
        Assert.Equal(3, whole.Count);
        Assert.Equal(before, afterWhole);
        Assert.Equal(created.Take(2).Select(c => c.Id), first.Items.Select(c => c.Id));
        Assert.Equal(3, first.Count);
        Assert.Equal(before + 1, afterFirst);
        Assert.Equal([created[2].Id], second.Items.Select(c => c.Id));
        Assert.Equal(3, second.Count);
    }

    [Fact]
    public async Task CountsFromCountersAreExactForStatusAndProgramFiltersInBothModes()
    {
        var expected = (await _api.QueryAsync("SELECT count(*) FROM clients WHERE status = 'pending' AND program_type = 'PERFORMANCE'", r => r.GetInt64(0)))[0];

        var exact = await PageAsync("status=pending&programType=PERFORMANCE&count=exact&limit=1");
        var estimated = await PageAsync("status=pending&programType=PERFORMANCE&count=estimated&limit=1");
        var none = await PageAsync("status=pending&limit=1");

        Assert.Equal(expected, exact.Count);
        Assert.Equal(expected, estimated.Count);
        Assert.Null(none.Count);
        Assert.Equal("none", none.CountMode);
    }

    [Fact]
    public async Task AnEstimatedCountComesFromThePlannerForOtherFilters()
    {
        var page = await PageAsync("createdFrom=2000-01-01&count=estimated&limit=1");

        Assert.Equal("estimated", page.CountMode);
        Assert.NotNull(page.Count);
        Assert.True(page.Count >= 0);
    }

    [Fact]
    public async Task DateRangesAreHalfOpenAndABareUpperDateIncludesThatDay()
    {
        var token = ClientsApiDriver.Token();
        foreach (var (day, n) in new[] { ("1996-03-30 23:59:59+00", 1), ("1996-03-31 12:00:00+00", 2), ("1996-04-01 00:00:00+00", 3) })
        {
            await _api.ExecuteAsync(
                "INSERT INTO clients (name, email, program_type, created_at, updated_at) VALUES ($1, $2, 'PRIME', $3::timestamptz, $3::timestamptz)",
                $"Range {token} {n}", $"range{n}.{token}@example.com", day);
        }

        var page = await PageAsync($"q={token}&createdFrom=1996-03-31&createdTo=1996-03-31&count=exact");
        var withTimes = await PageAsync($"q={token}&createdFrom=1996-03-30T23:59:59Z&createdTo=1996-04-01T00:00:00Z&count=exact");

        Assert.Equal([$"Range {token} 2"], page.Items.Select(c => c.Name));
        Assert.Equal(2, withTimes.Count);
    }

    [Fact]
    public async Task SortByNameIsCaseInsensitiveAndPagesContinueWhereTheyEnded()
    {
        var token = ClientsApiDriver.Token();
        foreach (var name in new[] { "delta", "Alpha", "charlie", "Bravo", "echo" })
        {
            await _api.CreateOkAsync($"{name} {token}", ClientsApiDriver.UniqueEmail());
        }

        var first = await PageAsync($"q={token}&sort=name&limit=2");
        var second = await PageAsync($"q={token}&sort=name&limit=2&cursor={Uri.EscapeDataString(first.NextCursor!)}");
        var third = await PageAsync($"q={token}&sort=name&limit=2&cursor={Uri.EscapeDataString(second.NextCursor!)}");

        Assert.Equal(["Alpha", "Bravo", "charlie", "delta", "echo"],
            first.Items.Concat(second.Items).Concat(third.Items).Select(c => c.Name.Split(' ')[0]));
        Assert.Null(third.NextCursor);
    }

    [Fact]
    public async Task ANameSortedCursorDoesNotCarryTheNameInAnyEncoding()
    {
        var token = ClientsApiDriver.Token();
        var first = await _api.CreateOkAsync($"Ångström {token} Able", $"Able.{token}@Example.com");
        var second = await _api.CreateOkAsync($"Ångström {token} Baker", ClientsApiDriver.UniqueEmail());

        var page = await PageAsync($"q={token}&sort=name&limit=1");
        var next = await PageAsync($"q={token}&sort=name&limit=1&cursor={Uri.EscapeDataString(page.NextCursor!)}");

        Assert.Equal(first.Id, page.Items.Single().Id);
        foreach (var secret in new[] { first.Name, token, first.Email, "Ångström" })
        {
            var found = PersonalDataForms.FoundInToken(page.NextCursor!, secret);
            Assert.True(found.Count == 0, $"cursor {page.NextCursor} holds '{secret}': {string.Join(", ", found)}");
        }

        // Unreadable, and still a cursor: the next page continues after the name it holds.
        Assert.Equal(second.Id, next.Items.Single().Id);
        Assert.Null(next.NextCursor);
    }

    [Fact]
    public async Task KeysetPagesMissAndRepeatNoRowWhileRowsAreInsertedConcurrently()
    {
        var token = ClientsApiDriver.Token();
        var random = new Random(20261126);
        for (var batch = 0; batch < 3; batch++)
        {
            var items = Enumerable.Range(0, 1000).Select(i => new
            {
                op = "create",
                name = $"Walk {token} {random.Next(1_000_000):D6}",
                email = $"walk{batch}-{i}.{token}@example.com",
                programType = "PRIME",
            });
            Assert.Equal(HttpStatusCode.OK, (await _api.BatchAsync(new { items })).StatusCode);
        }

        var existing = (await _api.QueryAsync("SELECT id FROM clients WHERE name LIKE $1", r => r.GetInt64(0), $"Walk {token} %")).ToHashSet();
        Assert.Equal(3000, existing.Count);

        using var stop = new CancellationTokenSource();
        var inserted = 0;
        var writer = Task.Run(async () =>
        {
            var writerRandom = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                await _api.CreateOkAsync($"Walk {token} {writerRandom.Next(1_000_000):D6}", ClientsApiDriver.UniqueEmail(token));
                Interlocked.Increment(ref inserted);
            }
        });

        var seen = new List<long>();
        string? cursor = null;
        do
        {
            var page = await PageAsync($"q={Uri.EscapeDataString($"Walk {token}")}&sort=name&order=asc&limit=200" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            seen.AddRange(page.Items.Select(c => c.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        await stop.CancelAsync();
        await writer;

        Assert.True(inserted > 0, "rows must have been inserted during the walk");
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(existing.Except(seen));
    }

    [Theory]
    [InlineData("limit=0", "limit", "limit_out_of_range")]
    [InlineData("limit=201", "limit", "limit_out_of_range")]
    [InlineData("limit=ten", "limit", "limit_out_of_range")]
    [InlineData("sort=email", "sort", "sort_unknown")]
    [InlineData("order=sideways", "order", "order_unknown")]
    [InlineData("status=zombie", "status", "status_unknown")]
    [InlineData("programType=GOLD", "programType", "program_type_unknown")]
    [InlineData("createdFrom=yesterday", "createdFrom", "date_invalid")]
    [InlineData("updatedTo=2025-13-45", "updatedTo", "date_invalid")]
    [InlineData("createdFrom=2025-02-01&createdTo=2025-01-01", "createdFrom", "range_invalid")]
    [InlineData("count=all", "count", "count_mode_unknown")]
    [InlineData("colour=red", "colour", "unknown_parameter")]
    [InlineData("q=a&q=b", "q", "duplicate_parameter")]
    [InlineData("cursor=garbage", "cursor", "cursor_invalid")]
    [InlineData("cursor=eyJ2IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA", "cursor", "cursor_invalid")]
    public async Task BadParametersAre400NamingTheParameter(string query, string name, string code)
    {
        var response = await _api.Reader.GetAsync($"{Search}?{query}");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == name && e.Code == code);
    }

    [Fact]
    public async Task ATamperedCursorIsRefused()
    {
        await _api.CreateOkAsync("Cursor One", ClientsApiDriver.UniqueEmail());
        await _api.CreateOkAsync("Cursor Two", ClientsApiDriver.UniqueEmail());
        var page = await PageAsync("limit=1");
        var cursor = page.NextCursor!;
        var tampered = (cursor[0] == 'e' ? 'f' : 'e') + cursor[1..];

        var response = await _api.Reader.GetAsync($"{Search}?limit=1&cursor={Uri.EscapeDataString(tampered)}");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e is { Name: "cursor", Code: "cursor_invalid" });
    }

    [Fact]
    public async Task ACursorFromAnotherQueryIsRefused()
    {
        await _api.CreateOkAsync("Active One", ClientsApiDriver.UniqueEmail());
        await _api.CreateOkAsync("Active Two", ClientsApiDriver.UniqueEmail());
        var page = await PageAsync("limit=1&status=active");

        var response = await _api.Reader.GetAsync($"{Search}?limit=1&status=inactive&cursor={Uri.EscapeDataString(page.NextCursor!)}");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("different query", problem.Errors.Single().Reason);
    }

    [Fact]
    public async Task SqlLookingSearchTextIsSearchedAsText()
    {
        await _api.CreateOkAsync("Bobby Tables", ClientsApiDriver.UniqueEmail());
        var page = await PageAsync($"q={Uri.EscapeDataString("'; DROP TABLE clients; --")}&count=exact");

        Assert.Equal(0, page.Count);
        Assert.True(await _api.CountAllAsync() > 0);
    }

    [Fact]
    public async Task TheListRouteFiltersByStatusAndRefusesSearchOnlyParameters()
    {
        var created = await _api.CreateOkAsync("Listed Pending", ClientsApiDriver.UniqueEmail(), "PERFORMANCE", "pending");

        var page = await ClientsApiDriver.ReadAsync<PageDto>(await _api.Reader.GetAsync("/api/v1/clients?status=pending&programType=PERFORMANCE&sort=id&order=desc&limit=5"));
        var refused = await _api.Reader.GetAsync("/api/v1/clients?q=x");

        Assert.Equal(created.Id, page.Items[0].Id);
        Assert.All(page.Items, c => Assert.Equal(("pending", "PERFORMANCE"), (c.Status, c.ProgramType)));
        var problem = await Problem.ReadAsync(refused, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e is { Name: "q", Code: "unknown_parameter" });
    }

    /// <summary>How often Postgres ran a search's exact count (the scan a short first page makes needless).</summary>
    private async Task<long> TextCountCallsAsync() => (await _api.QueryAsync(
        "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE 'SELECT count(*) FROM clients WHERE (search_vector @@%'",
        r => r.GetInt64(0)))[0];

    private async Task<PageDto> PageAsync(string query) =>
        await ClientsApiDriver.ReadAsync<PageDto>(await _api.Reader.GetAsync($"{Search}?{query}"));
}
