namespace NexusCore.ClientsApi.Features.Clients.Dashboard;

/// <summary>The dashboard's figures; <see cref="ActiveRate"/> is a percentage with two decimals.</summary>
public sealed record Response(long TotalClients, long ActiveClients, long PrimeClients, long LongevityClients, decimal ActiveRate);

/// <summary>No parameters: any query parameter is a 400.</summary>
public sealed class Request;
