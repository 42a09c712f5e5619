using System.Text.Json;
using Xunit.Abstractions;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// Both live documents against Redocly's recommended rules (<c>@redocly/cli lint</c>, tools/openapi/redocly.yaml):
/// no error; warnings are written to the test's output.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class DocumentLintTests(StackFixture stack, ITestOutputHelper output)
{
    [Theory]
    [InlineData("clients-api")]
    [InlineData("perf-api")]
    public async Task TheDocumentPassesRedoclysRecommendedRulesWithoutErrors(string service)
    {
        using var work = new OpenApiTools.WorkFolder();
        var document = work.File($"{service}.json");
        await File.WriteAllTextAsync(document, await stack.CreateClient(service).GetStringAsync(NexusCore.Testing.Contract.OpenApiContract.DocumentPath));

        var run = await OpenApiTools.NodeAsync(
            OpenApiTools.ToolsDirectory,
            [OpenApiTools.Script("@redocly/cli/bin/cli.js"), "lint", document, "--config", Path.Combine(OpenApiTools.ToolsDirectory, "redocly.yaml"), "--format", "json"],
            TimeSpan.FromMinutes(2));

        // The JSON report is the output's one object (the CLI may print notices around it).
        var json = run.Output[run.Output.IndexOf('{')..(run.Output.LastIndexOf('}') + 1)];
        var report = JsonDocument.Parse(json).RootElement;
        var problems = report.GetProperty("problems").EnumerateArray()
            .Select(p => (
                Severity: p.GetProperty("severity").GetString(),
                Rule: p.GetProperty("ruleId").GetString(),
                Message: p.GetProperty("message").GetString(),
                Where: string.Join(", ", p.GetProperty("location").EnumerateArray().Select(l => l.TryGetProperty("pointer", out var pointer) ? pointer.GetString() : "?"))))
            .ToList();
        foreach (var warning in problems.Where(p => p.Severity == "warn"))
        {
            output.WriteLine($"warning {warning.Rule}: {warning.Message} at {warning.Where}");
        }

        var errors = problems.Where(p => p.Severity == "error").Select(p => $"{p.Rule}: {p.Message} at {p.Where}").ToList();
        Assert.True(errors.Count == 0, $"{service}: {errors.Count} lint errors ({run.Took.TotalSeconds:0.0} s):{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        Assert.Equal(0, report.GetProperty("totals").GetProperty("errors").GetInt32());
        Assert.Equal(0, run.ExitCode);
    }
}
