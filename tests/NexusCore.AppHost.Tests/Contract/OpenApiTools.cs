using System.Diagnostics;
using System.Text;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// The npm tools the contract tests run (tools/openapi: Redocly's CLI, openapi-typescript, TypeScript), as
/// scripts/prerequisites.sh installs them from the committed lock file, and node to run them. Each run has a
/// deadline and its whole output is kept for the failure message.
/// </summary>
internal static class OpenApiTools
{
    public static readonly string RepositoryRoot = FindRepositoryRoot();

    public static readonly string ToolsDirectory = Path.Combine(RepositoryRoot, "tools", "openapi");

    public static string NodeModules => Path.Combine(ToolsDirectory, "node_modules");

    /// <summary>The scenarios compiled against generated clients (tests/NexusCore.AppHost.Tests/Contract/Client).</summary>
    public static readonly string ScenarioDirectory = Path.Combine(RepositoryRoot, "tests", "NexusCore.AppHost.Tests", "Contract", "Client");

    public sealed record Result(int ExitCode, string Output, string Errors, TimeSpan Took)
    {
        public override string ToString() => $"exit {ExitCode} after {Took.TotalSeconds:0.0} s{Environment.NewLine}{Output}{Environment.NewLine}{Errors}";
    }

    /// <summary>A package's JavaScript entry point under node_modules (e.g. <c>@redocly/cli/bin/cli.js</c>), which must be installed.</summary>
    public static string Script(string relative)
    {
        var path = Path.Combine(NodeModules, relative);
        Assert.True(File.Exists(path), $"{path} is missing: run scripts/prerequisites.sh (it installs tools/openapi with npm ci).");
        return path;
    }

    /// <summary>Runs <c>node</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>, with a deadline.</summary>
    public static async Task<Result> NodeAsync(string workingDirectory, IEnumerable<string> arguments, TimeSpan deadline, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No colours and no update checks: the output is read by the test.
        start.Environment["NO_COLOR"] = "1";
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started.");
        var output = new StringBuilder();
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (errors) { errors.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"node {string.Join(' ', start.ArgumentList)} did not finish within {deadline}.{Environment.NewLine}{output}{errors}");
        }

        // WaitForExitAsync returns once the output streams are drained too.
        return new Result(process.ExitCode, output.ToString(), errors.ToString(), clock.Elapsed);
    }

    /// <summary>A fresh folder for one test's files, removed by disposing it.</summary>
    public sealed class WorkFolder : IDisposable
    {
        public WorkFolder()
        {
            Path = Directory.CreateTempSubdirectory("nexuscore-contract-").FullName;
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Left for the system's temporary-file cleaning.
            }
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "NexusCore.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NexusCore.sln was not found above the test's directory.");
    }
}
