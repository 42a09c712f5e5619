using System.Net;
using System.Text.Json;
using Sylvan.Data.Csv;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class ExportTests(ClientsApiStack stack) : IAsyncLifetime
{
    private const string Route = "/api/v1/optimized/clients/bulk-export";

    // 100,000 clients created in 1990, a year no other test uses, with names that need CSV quoting.
    private const string Window = "createdFrom=1990-01-01&createdTo=1990-12-31";
    private readonly ClientsApiDriver _api = new(stack);

    public async Task InitializeAsync()
    {
        await _api.ExecuteAsync("""
            INSERT INTO clients (name, email, status, program_type, created_at, updated_at)
            SELECT CASE g % 5
                       WHEN 0 THEN 'Plain Name ' || g
                       WHEN 1 THEN 'Comma, Name ' || g
                       WHEN 2 THEN 'Quote "Q" Name ' || g
                       WHEN 3 THEN 'Line' || chr(10) || 'Break ' || g
                       ELSE 'Zoë Ünïcødé 名前 ' || g
                   END,
                   'export-' || g || '@example.com',
                   (ARRAY['active','inactive','pending'])[1 + g % 3],
                   (ARRAY['PRIME','LONGEVITY','PERFORMANCE'])[1 + g % 3],
                   timestamptz '1990-01-01 00:00:00+00' + g * interval '5 minutes' + g * interval '1 microsecond',
                   timestamptz '1990-06-01 00:00:00+00' + g * interval '1 second'
            FROM generate_series(1, 100000) g
            WHERE NOT EXISTS (SELECT 1 FROM clients WHERE email = 'export-1@example.com')
            """);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task CsvOfAHundredThousandRowsRoundTripsThroughACsvParserEqualToTheTable()
    {
        var expected = await TableAsync();

        var response = await _api.Admin.GetAsync($"{Route}?{Window}", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("attachment", response.Content.Headers.ContentDisposition?.ToString());
        await using var body = await response.Content.ReadAsStreamAsync();
        using var text = new StreamReader(body);
        await using var csv = await CsvDataReader.CreateAsync(text);
        Assert.Equal(["id", "name", "email", "status", "program_type", "created_at", "updated_at", "version"],
            Enumerable.Range(0, csv.FieldCount).Select(csv.GetName));
        var actual = new List<Row>(expected.Count);
        while (await csv.ReadAsync())
        {
            actual.Add(new Row(
                long.Parse(csv.GetString(0), System.Globalization.CultureInfo.InvariantCulture),
                csv.GetString(1), csv.GetString(2), csv.GetString(3), csv.GetString(4),
                DateTime.Parse(csv.GetString(5), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal),
                DateTime.Parse(csv.GetString(6), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal),
                int.Parse(csv.GetString(7), System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Equal(100_000, actual.Count);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task NdjsonOfAHundredThousandRowsRoundTripsEqualToTheTable()
    {
        var expected = await TableAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, $"{Route}?{Window}");
        request.Headers.Accept.ParseAdd("application/x-ndjson");

        var response = await _api.Admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var actual = new List<Row>(expected.Count);
        while (await reader.ReadLineAsync() is { } line)
        {
            var c = JsonSerializer.Deserialize<ClientDto>(line, ClientsApiDriver.Json)!;
            actual.Add(new Row(c.Id, c.Name, c.Email, c.Status, c.ProgramType, c.CreatedAt, c.UpdatedAt, c.Version));
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task TheSearchFiltersNarrowTheExport()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"{Route}?{Window}&status=pending&programType=PERFORMANCE&q=Plain");
        request.Headers.Accept.ParseAdd("application/x-ndjson");

        var lines = (await (await _api.Admin.SendAsync(request)).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var expected = (await _api.QueryAsync(
            "SELECT count(*) FROM clients WHERE created_at >= '1990-01-01' AND created_at < '1991-01-01' AND status = 'pending' AND program_type = 'PERFORMANCE' AND name LIKE 'Plain%'",
            r => r.GetInt64(0)))[0];
        Assert.Equal(expected, lines.Length);
        Assert.True(expected > 0);
    }

    [Fact]
    public async Task AnUnsupportedAcceptIs406AndBadFiltersAre400()
    {
        var xml = new HttpRequestMessage(HttpMethod.Get, Route);
        xml.Headers.Accept.ParseAdd("application/xml");

        await Problem.ReadAsync(await _api.Admin.SendAsync(xml), HttpStatusCode.NotAcceptable);
        var problem = await Problem.ReadAsync(await _api.Admin.GetAsync($"{Route}?limit=5"), HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e is { Name: "limit", Code: "unknown_parameter" });
    }

    [Fact]
    public async Task CsvCellsThatASpreadsheetWouldRunAsFormulasGetALeadingQuoteWhileNdjsonKeepsTheStoredText()
    {
        // Names may start with =, +, - or @ (tab and CR are control characters, refused below); an email's
        // local part may start with =, + or -. Each is created through the API, then exported.
        var token = ClientsApiDriver.Token();
        var guid = Guid.NewGuid().ToString("N");
        (string Name, string Email)[] created =
        [
            ($"=HYPERLINK(\"http://evil.example\",\"x\") {token}", $"=1+2.{guid}@example.com"),
            ($"+1+2 {token}", $"+tag.{guid}@example.com"),
            ($"-2+3 {token}", $"-dash.{guid}@example.com"),
            ($"@SUM(A1:A2) {token}", $"at.{guid}@example.com"),
            ($"Plain {token}", $"plain.{guid}@example.com"),
        ];
        foreach (var (name, email) in created)
        {
            await _api.CreateOkAsync(name, email);
        }

        var response = await _api.Admin.GetAsync($"{Route}?q={token}");
        var csvText = await response.Content.ReadAsStringAsync();
        var ndjson = new HttpRequestMessage(HttpMethod.Get, $"{Route}?q={token}");
        ndjson.Headers.Accept.ParseAdd("application/x-ndjson");
        var ndjsonLines = (await (await _api.Admin.SendAsync(ndjson)).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // RFC 4180 still holds around the quote: the cell is quoted and its own quotes doubled.
        Assert.Contains($"\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\") {token}\",'=1+2.{guid}@example.com,", csvText);
        using var text = new StringReader(csvText);
        await using var csv = await CsvDataReader.CreateAsync(text);
        Assert.Equal("id,name,email,status,program_type,created_at,updated_at,version",
            string.Join(',', Enumerable.Range(0, csv.FieldCount).Select(csv.GetName)));
        var cells = new List<(string Name, string Email)>();
        while (await csv.ReadAsync())
        {
            cells.Add((csv.GetString(1), csv.GetString(2)));
        }

        Assert.Equal(
        [
            ($"'=HYPERLINK(\"http://evil.example\",\"x\") {token}", $"'=1+2.{guid}@example.com"),
            ($"'+1+2 {token}", $"'+tag.{guid}@example.com"),
            ($"'-2+3 {token}", $"'-dash.{guid}@example.com"),
            ($"'@SUM(A1:A2) {token}", $"at.{guid}@example.com"),
            ($"Plain {token}", $"plain.{guid}@example.com"),
        ], cells);
        Assert.Equal(created, ndjsonLines.Select(l => JsonSerializer.Deserialize<ClientDto>(l, ClientsApiDriver.Json)!).Select(c => (c.Name, c.Email)));
    }

    [Theory]
    [InlineData("\tTab")]
    [InlineData("\rReturn")]
    public async Task ANameStartingWithATabOrCarriageReturnIsRefusedAsAControlCharacter(string name)
    {
        var problem = await Problem.ReadAsync(await _api.CreateAsync(new { name, email = ClientsApiDriver.UniqueEmail("ctl"), programType = "PRIME" }), HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors, e => e is { Name: "name", Code: "name_invalid" });
    }

    [Fact]
    public async Task TheCsvWriterNeutralizesTabAndCarriageReturnStartsAndHeadersThatLookLikeFormulas()
    {
        // Tab and CR cannot come through the API (above), but the writer guards whatever the table holds,
        // and the header row too: each cell is read from a real Npgsql reader, as the export reads rows.
        await using var command = _api.Db.CreateCommand(
            """SELECT 7::bigint AS id, E'\tTab' AS "=name", E'\rReturn' AS email, '-5' AS "@status", 'plain' AS "+program", '' AS empty, '''quoted' AS "-" """);
        await using var reader = await command.ExecuteReaderAsync();
        using var body = new MemoryStream();

        var rows = await NexusCore.ClientsApi.Features.Clients.Export.Writers.WriteCsvAsync(reader, body, CancellationToken.None);

        Assert.Equal(1, rows);
        Assert.Equal(
            "id,'=name,email,'@status,'+program,empty,'-\r\n" +
            "7,'\tTab,\"'\rReturn\",'-5,plain,,'quoted\r\n",
            System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }

    private async Task<List<Row>> TableAsync() => await _api.QueryAsync(
        "SELECT id, name, email, status, program_type, created_at, updated_at, version FROM clients WHERE created_at >= '1990-01-01' AND created_at < '1991-01-01' ORDER BY id",
        r => new Row(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetFieldValue<DateTime>(5), r.GetFieldValue<DateTime>(6), r.GetInt32(7)));

    private sealed record Row(long Id, string Name, string Email, string Status, string ProgramType, DateTime CreatedAt, DateTime UpdatedAt, int Version);
}
