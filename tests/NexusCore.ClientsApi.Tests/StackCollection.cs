namespace NexusCore.ClientsApi.Tests;

[CollectionDefinition(Name)]
public sealed class StackCollection : ICollectionFixture<ClientsApiStack>
{
    public const string Name = "stack";
}

/// <summary>The stack without PerfApi, which ClientsApi's tests never call: it boots sooner and uses less of the machine.</summary>
public sealed class ClientsApiStack : StackFixture
{
    protected override bool RunsPerfApi => false;
}
