using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using NexusCore.Bench;
using NexusCore.Bench.Reporting;

// bench/run's engine: boots the stack, seeds, measures, and writes <out>/<date>.md and .json.
// A command line that does not parse prints what is wrong and exits with 2; --help prints every option.
var parsed = BenchCommandLine.Create(RunAsync).Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var parseError in parsed.Errors)
    {
        Console.Error.WriteLine(parseError.Message);
    }

    Console.Error.WriteLine("Every option: bench/run --help");
    return 2;
}

// Ctrl+C is the harness's own to handle (it stops the stack it started), not System.CommandLine's.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

async Task<int> RunAsync(BenchOptions options, ParseResult _, CancellationToken __)
{
    var repoRoot = FindRepoRoot();
    if (repoRoot is null)
    {
        Console.Error.WriteLine("Run the benchmark from the repository (bench/run): NexusCore.sln was not found above the current directory.");
        return 2;
    }

    using var cancel = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancel.Cancel();
    };

    BenchResults results;
    var harness = new Harness(options, repoRoot, Console.Out);
    try
    {
        var command = "bench/run" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
        results = await harness.RunAsync(command, cancel.Token);
    }
    catch (OperationCanceledException) when (cancel.IsCancellationRequested)
    {
        Console.Error.WriteLine("Cancelled.");
        return 130;
    }
    catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or HttpRequestException)
    {
        Console.Error.WriteLine($"The benchmark failed: {ex.Message}");
        Console.Error.WriteLine($"Scripts and service logs: {harness.WorkDirectory}");
        return 1;
    }

    var outputDirectory = Path.GetFullPath(Path.Combine(repoRoot, options.OutputDirectory));
    Directory.CreateDirectory(outputDirectory);
    var name = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + (options.Tiny ? "-tiny" : "");
    var markdown = MarkdownReport.Render(results);
    await File.WriteAllTextAsync(Path.Combine(outputDirectory, name + ".md"), markdown);
    await File.WriteAllTextAsync(Path.Combine(outputDirectory, name + ".json"), JsonSerializer.Serialize(results, new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    }));

    Console.WriteLine();
    Console.WriteLine(markdown);
    Console.WriteLine($"Written: {Path.Combine(outputDirectory, name)}.md and .json");
    return 0;
}

static string? FindRepoRoot()
{
    foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NexusCore.sln")))
            {
                return dir.FullName;
            }
        }
    }

    return null;
}
