namespace NexusCore.ClientsApi.Features.Clients.Query;

public enum SortField
{
    CreatedAt,
    UpdatedAt,
    Name,
    Id,
}

public enum CountMode
{
    None,
    Estimated,
    Exact,
}

/// <summary>Which clients: the filters shared by list, search and export, already validated and normalized.</summary>
public sealed record ClientFilter(
    IReadOnlyList<string> Statuses,
    IReadOnlyList<string> ProgramTypes,
    DateTime? CreatedFrom,
    DateTime? CreatedTo,
    DateTime? UpdatedFrom,
    DateTime? UpdatedTo,
    string? Q)
{
    public static readonly ClientFilter All = new([], [], null, null, null, null, null);

    /// <summary>True when only status and program type narrow the set: its size is in client_counts.</summary>
    public bool CountableFromCounters =>
        CreatedFrom is null && CreatedTo is null && UpdatedFrom is null && UpdatedTo is null && Q is null;

    /// <summary>A stable text form, the basis of cache keys and of a cursor's binding to its query.</summary>
    public string Canonical() => string.Join('|',
        "s=" + string.Join(',', Statuses),
        "p=" + string.Join(',', ProgramTypes),
        "cf=" + Stamp(CreatedFrom), "ct=" + Stamp(CreatedTo),
        "uf=" + Stamp(UpdatedFrom), "ut=" + Stamp(UpdatedTo),
        "q=" + Q);

    private static string Stamp(DateTime? value) => value?.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
}

/// <summary>A page request: filters, order, page size, where to continue, and how to count.</summary>
public sealed record ClientPageQuery(
    ClientFilter Filter,
    SortField Sort,
    bool Descending,
    int Limit,
    Cursor? After,
    CountMode Count)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public string Canonical() =>
        $"{Filter.Canonical()}|sort={Sort}|desc={Descending}|limit={Limit}|after={After?.Token}|count={Count}";
}

/// <summary>A page of clients; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record ClientPage(IReadOnlyList<Client> Items, string? NextCursor, long? Count, string CountMode) : Caching.IRowCount
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int Rows => Items.Count;
}
