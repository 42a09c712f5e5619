using Aspire.Hosting.Testing;

namespace NexusCore.Console.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleStack>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "console";
}

/// <summary>The whole stack (local mode), as an operator runs it, for the console and the API references in a browser.</summary>
public sealed class ConsoleStack : StackFixture
{
    /// <summary>PerfApi's origin as the browser reaches it.</summary>
    public Uri PerfApi => App.GetEndpoint("perf-api", "http");

    public Uri ClientsApi => App.GetEndpoint("clients-api", "http");
}
