using System.Text.Json;
using NexusCore.Testing.Contract;
using Npgsql;
using Xunit.Abstractions;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// Proof by generation, as a frontend developer would do it: a TypeScript client is generated from the document
/// the running service serves (openapi-typescript), a scenario written against it (Contract/Client/*.ts, with
/// openapi-fetch) is compiled by TypeScript in strict mode and run by node against the stack. A path,
/// parameter, header or body field missing from the document fails the compile; a wrong answer fails the run;
/// the values it saw are asserted here and in the database.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class GeneratedClientTests(StackFixture stack, ITestOutputHelper output)
{
    [Fact]
    public async Task AClientGeneratedFromClientsApisDocumentCreatesSearchesBatchesExportsAndReads()
    {
        var marker = "m" + Guid.NewGuid().ToString("N")[..12];
        var result = await GenerateCompileAndRunAsync("clients-api", "clients-scenario", new Dictionary<string, string>
        {
            ["MARKER"] = marker,
            ["WRITER_KEY"] = stack.ApiKey("writer"),
            ["READER_KEY"] = stack.ApiKey("reader"),
            ["ADMIN_KEY"] = stack.ApiKey("admin"),
        });

        var created = Ids(result.GetProperty("created"));
        Assert.Equal(3, created.Length);
        Assert.Equal($"\"{created[0]}.1\"", result.GetProperty("getEtag").GetString());
        Assert.Equal(304, result.GetProperty("notModified").GetInt32());
        Assert.Equal("inactive", result.GetProperty("patchedStatus").GetString());

        // Search by the marker, two per page, oldest first: the three created, then nothing more. The batch
        // created a fourth with the marker after the search ran.
        Assert.Equal(created[..2], Ids(result.GetProperty("firstPage")));
        Assert.Equal(3, result.GetProperty("firstPageCount").GetInt64());
        Assert.Equal(created[2..], Ids(result.GetProperty("secondPage")));
        Assert.Equal(JsonValueKind.Null, result.GetProperty("secondPageCursor").ValueKind);

        // The list filtered to active PRIME or LONGEVITY clients: the PRIME one (the LONGEVITY one was made inactive before).
        Assert.Equal(new[] { created[0] }, Ids(result.GetProperty("listed")));

        // The batch updated one and created one; the replay with the same Idempotency-Key answered the same and wrote nothing.
        var batch = result.GetProperty("batch");
        Assert.Equal(2, batch.GetProperty("succeeded").GetInt32());
        Assert.Equal(new[] { 200, 201 }, batch.GetProperty("statuses").EnumerateArray().Select(s => s.GetInt32()));
        var batchCreated = batch.GetProperty("createdId").GetInt64();
        Assert.Equal(batchCreated, result.GetProperty("replay").GetProperty("createdId").GetInt64());
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM clients WHERE email = $1", $"gen-{marker}-batch@example.test"));

        var byIds = result.GetProperty("byIds");
        Assert.Equal(new[] { created[0], batchCreated }, Ids(byIds.GetProperty("items")));
        Assert.Equal(new[] { 9_000_000_000_000L }, Ids(byIds.GetProperty("missing")));

        // Exported before the delete: the four clients with the marker (NDJSON, values as stored).
        Assert.Equal(
            new[] { 0, 1, 2 }.Select(i => $"gen-{marker}-{i}@example.test").Append($"gen-{marker}-batch@example.test").Order(),
            result.GetProperty("exportedEmails").EnumerateArray().Select(e => e.GetString()!).Order());

        Assert.True(result.GetProperty("analyticsDays").GetInt32() == 1, result.ToString());
        Assert.True(result.GetProperty("analyticsTodayTotal").GetInt64() >= 4, result.ToString());
        Assert.True(result.GetProperty("dashboardTotal").GetInt64() >= 4, result.ToString());
        Assert.Equal("https://nexuscore.dev/problems/forbidden", result.GetProperty("refusedType").GetString());
        Assert.Equal("https://nexuscore.dev/problems/not-found", result.GetProperty("notFoundType").GetString());
        Assert.Equal(204, result.GetProperty("deleted").GetInt32());
        Assert.True(result.GetProperty("statisticsHasHitRate").GetBoolean());

        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM clients WHERE id = $1", created[0]));
        Assert.Equal("inactive", await ScalarAsync<string>("SELECT status FROM clients WHERE id = $1", created[1]));
        Assert.Equal("active", await ScalarAsync<string>("SELECT status FROM clients WHERE id = $1", created[2]));
    }

    [Fact]
    public async Task AClientGeneratedFromPerfApisDocumentReadsEveryPerformanceView()
    {
        var result = await GenerateCompileAndRunAsync("perf-api", "perf-scenario", new Dictionary<string, string>
        {
            ["READER_KEY"] = stack.ApiKey("reader"),
        });

        Assert.Contains(result.GetProperty("health").GetString(), new[] { "healthy", "degraded" });
        Assert.Equal(result.GetProperty("health").GetString(), result.GetProperty("detailsStatus").GetString());
        Assert.Contains("postgres", result.GetProperty("detailsDependencies").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal("15m", result.GetProperty("analyticsWindow").GetString());
        Assert.Equal(0.5, result.GetProperty("slowThresholdSeconds").GetDouble());
        Assert.Equal("1h", result.GetProperty("slowWindow").GetString());
        Assert.True(result.GetProperty("alertsIsList").GetBoolean());
        Assert.True(result.GetProperty("indexesPlanning").GetBoolean());
        Assert.Equal("https://nexuscore.dev/problems/not-found", result.GetProperty("applicationType").GetString());
        Assert.Equal("https://nexuscore.dev/problems/unauthenticated", result.GetProperty("refusedType").GetString());
        Assert.Equal(401, result.GetProperty("refusedStatus").GetInt32());
    }

    /// <summary>
    /// Generates <c>{service}.d.ts</c> from the live document, compiles <paramref name="scenario"/>.ts against it
    /// (strict), runs it with <c>BASE_URL</c> and <paramref name="environment"/>, and returns the JSON line it printed.
    /// </summary>
    private async Task<JsonElement> GenerateCompileAndRunAsync(string service, string scenario, Dictionary<string, string> environment)
    {
        using var work = new OpenApiTools.WorkFolder();
        var http = stack.CreateClient(service);
        await File.WriteAllTextAsync(work.File($"{service}.json"), await http.GetStringAsync(OpenApiContract.DocumentPath));
        foreach (var file in new[] { $"{scenario}.ts", "tsconfig.json", "package.json" })
        {
            File.Copy(Path.Combine(OpenApiTools.ScenarioDirectory, file), work.File(file));
        }

        // The scenario resolves openapi-fetch and the compiler's types from the installed tools.
        Directory.CreateSymbolicLink(work.File("node_modules"), OpenApiTools.NodeModules);

        var generate = await OpenApiTools.NodeAsync(work.Path, [OpenApiTools.Script("openapi-typescript/bin/cli.js"), $"{service}.json", "--output", $"{service}.d.ts"], TimeSpan.FromMinutes(2));
        output.WriteLine($"openapi-typescript: {generate.Took.TotalSeconds:0.0} s");
        Assert.True(generate.ExitCode == 0, $"openapi-typescript failed on {service}'s document: {generate}");

        var compile = await OpenApiTools.NodeAsync(work.Path, [OpenApiTools.Script("typescript/bin/tsc"), "--project", "tsconfig.json"], TimeSpan.FromMinutes(3));
        output.WriteLine($"tsc: {compile.Took.TotalSeconds:0.0} s");
        Assert.True(compile.ExitCode == 0, $"The scenario does not compile against the client generated from {service}'s document: {compile}");

        environment["BASE_URL"] = http.BaseAddress!.ToString().TrimEnd('/');
        var run = await OpenApiTools.NodeAsync(work.Path, [Path.Combine("dist", $"{scenario}.js")], TimeSpan.FromMinutes(2), environment);
        output.WriteLine($"scenario: {run.Took.TotalSeconds:0.0} s");
        Assert.True(run.ExitCode == 0, $"The scenario failed against {service}: {run}");
        var line = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last(l => l.StartsWith('{'));
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static long[] Ids(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt64()).ToArray();

    private async Task<T> ScalarAsync<T>(string sql, object parameter)
    {
        await using var command = stack.ClientsDb.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
