using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.List;

public sealed class Request
{
    /// <summary>Only clients of these statuses (active, inactive, pending); repeat the parameter for several.</summary>
    [QueryParam, AllowedValues("active", "inactive", "pending")]
    public string[]? Status { get; init; }

    /// <summary>Only clients of these program types (PRIME, LONGEVITY, PERFORMANCE); repeat the parameter for several.</summary>
    [QueryParam, AllowedValues("PRIME", "LONGEVITY", "PERFORMANCE")]
    public string[]? ProgramType { get; init; }

    /// <summary>The sort field; createdAt by default.</summary>
    [QueryParam, ParseErrorCode("sort_unknown")]
    public SortField? Sort { get; init; }

    /// <summary>desc by default for createdAt and updatedAt, asc for name and id.</summary>
    [QueryParam, ParseErrorCode("order_unknown")]
    public SortOrder? Order { get; init; }

    /// <summary>Clients per page, 1 to 200.</summary>
    [QueryParam, ParseErrorCode("limit_out_of_range"), DefaultValue(ClientPageQuery.DefaultLimit), Range(1, ClientPageQuery.MaxLimit)]
    public int? Limit { get; init; }

    /// <summary>The previous page's nextCursor, with the same filters and sort.</summary>
    [QueryParam]
    public string? Cursor { get; init; }

    /// <summary>An ETag of this page: 304 while it is current.</summary>
    [FromHeader("If-None-Match", IsRequired = false, RemoveFromSchema = true)]
    public string? IfNoneMatch { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Status).StatusValues();
        RuleFor(r => r.ProgramType).ProgramTypeValues();
        RuleFor(r => r.Limit).PageLimit();
    }
}
