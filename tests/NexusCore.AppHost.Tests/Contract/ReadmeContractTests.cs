using System.Text.RegularExpressions;
using NexusCore.Testing.Contract;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// README's endpoint tables against the live documents: the same routes, the same role for each, and every query
/// parameter a document declares named in that route's row. And README's one-command client generation names the
/// documents the services serve.
/// </summary>
[Collection(StackCollection.Name)]
public sealed partial class ReadmeContractTests(StackFixture stack)
{
    /// <summary>Routes README names in prose rather than in a table (the OTLP receiver, described above PerfApi's table).</summary>
    private static readonly string[] ProseRoutes = ["POST /v1/traces", "POST /v1/metrics"];

    private sealed record Row(string Method, string Route, string Role, string Text);

    [Theory]
    [InlineData("clients-api", "### ClientsApi")]
    [InlineData("perf-api", "### PerfApi")]
    public async Task READMEsTableListsTheDocumentsRoutesRolesAndParameters(string service, string heading)
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(OpenApiTools.RepositoryRoot, "README.md"));
        var rows = Table(readme, heading);
        var contract = await OpenApiContract.LoadAsync(stack.CreateClient(service));
        var wrong = new List<string>();

        var documented = contract.Operations.Select(o => $"{o.Method.ToUpperInvariant()} {o.Template}").ToHashSet();
        var listed = rows.Select(r => $"{r.Method} /api/v1{r.Route}").ToHashSet();
        wrong.AddRange(documented.Except(listed).Where(o => !ProseRoutes.Contains(o)).Select(o => $"{o} is documented but not in README's table."));
        wrong.AddRange(listed.Except(documented).Select(o => $"{o} is in README's table but not in the document."));
        wrong.AddRange(ProseRoutes.Where(documented.Contains).Where(r => !readme.Contains($"`{r}`", StringComparison.Ordinal) && !readme.Contains(r.Split(' ')[1], StringComparison.Ordinal))
            .Select(r => $"{r} is documented but README does not name it."));

        foreach (var row in rows)
        {
            if (contract.Find(row.Method, "/api/v1" + row.Route) is not { } found)
            {
                continue;
            }

            var operation = found.Operation;
            var role = operation.ExtensionData?.TryGetValue("x-required-role", out var value) == true ? value?.ToString() : null;
            var secured = operation.Security is { Count: > 0 };
            var expected = row.Role == "none" ? null : row.Role;
            if (role != expected || secured != (expected is not null))
            {
                wrong.Add($"{row.Method} {row.Route}: README says role {row.Role}, the document {role ?? (secured ? "a key of no named role" : "none")}.");
            }

            var text = RowText(rows, row);
            foreach (var parameter in operation.ActualParameters.Where(p => p.Kind == NSwag.OpenApiParameterKind.Query))
            {
                if (!text.Contains($"`{parameter.Name}`", StringComparison.Ordinal) && !text.Contains($"{parameter.Name}=", StringComparison.Ordinal))
                {
                    wrong.Add($"{row.Method} {row.Route}: query parameter '{parameter.Name}' is documented but README's row does not name it.");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [Fact]
    public async Task READMEGeneratesATypeScriptClientFromEachServicesDocumentInOneCommand()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(OpenApiTools.RepositoryRoot, "README.md"));

        Assert.Contains("## API reference and generated clients", readme, StringComparison.Ordinal);
        Assert.Contains("npx openapi-typescript http://localhost:5180/swagger/v1/swagger.json -o clients-api.d.ts", readme, StringComparison.Ordinal);
        Assert.Contains("npx openapi-typescript http://localhost:5190/swagger/v1/swagger.json -o perf-api.d.ts", readme, StringComparison.Ordinal);
        Assert.Contains(OpenApiContract.DocumentPath, readme, StringComparison.Ordinal);
    }

    /// <summary>
    /// A row's text and, where it says it takes another route's parameters ("list's parameters", "the search
    /// filters"), that route's row too.
    /// </summary>
    private static string RowText(IReadOnlyList<Row> rows, Row row)
    {
        var text = row.Route + " " + row.Text;
        if (row.Text.Contains("list's parameters", StringComparison.Ordinal))
        {
            text += " " + RowText(rows, rows.Single(r => r is { Method: "GET", Route: "/clients" }));
        }

        if (row.Text.Contains("search filters", StringComparison.Ordinal))
        {
            text += " " + RowText(rows, rows.Single(r => r is { Method: "GET", Route: "/optimized/clients/search/advanced" }));
        }

        return text;
    }

    /// <summary>The rows of the first table under <paramref name="heading"/>: <c>| `METHOD /route?query` | role | text |</c>.</summary>
    private static List<Row> Table(string readme, string heading)
    {
        var start = readme.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README has no '{heading}'.");
        var rows = new List<Row>();
        var inTable = false;
        foreach (var line in readme[start..].Split('\n').Skip(1))
        {
            if (!line.StartsWith('|'))
            {
                if (inTable)
                {
                    break;
                }

                continue;
            }

            inTable = true;
            if (RowPattern().Match(line) is { Success: true } match)
            {
                var route = match.Groups["route"].Value;
                rows.Add(new Row(match.Groups["method"].Value, route.Split('?')[0], match.Groups["role"].Value.Trim(), route + " " + match.Groups["text"].Value));
            }
        }

        Assert.NotEmpty(rows);
        return rows;
    }

    [GeneratedRegex(@"^\| `(?<method>GET|POST|PATCH|PUT|DELETE) (?<route>/[^`]*)` \| (?<role>[a-z]+) \| (?<text>.*)\|\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex RowPattern();
}
