using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.Search;

public sealed class Request
{
    /// <summary>Only clients of these statuses (active, inactive, pending); repeat the parameter for several.</summary>
    [QueryParam, AllowedValues("active", "inactive", "pending")]
    public string[]? Status { get; init; }

    /// <summary>Only clients of these program types (PRIME, LONGEVITY, PERFORMANCE); repeat the parameter for several.</summary>
    [QueryParam, AllowedValues("PRIME", "LONGEVITY", "PERFORMANCE")]
    public string[]? ProgramType { get; init; }

    /// <summary>Created at or after. An ISO 8601 date (2025-03-31) or date-time (2025-03-31T12:00:00Z; no offset means UTC), years 1900 to 9999.</summary>
    [QueryParam]
    public string? CreatedFrom { get; init; }

    /// <summary>Created before; a bare date includes that day. An ISO 8601 date or date-time, years 1900 to 9999.</summary>
    [QueryParam]
    public string? CreatedTo { get; init; }

    /// <summary>Updated at or after. An ISO 8601 date or date-time, years 1900 to 9999.</summary>
    [QueryParam]
    public string? UpdatedFrom { get; init; }

    /// <summary>Updated before; a bare date includes that day. An ISO 8601 date or date-time, years 1900 to 9999.</summary>
    [QueryParam]
    public string? UpdatedTo { get; init; }

    /// <summary>Whole words of names and emails, and substrings of them when it holds three letters or digits in a row.</summary>
    [QueryParam, MaxLength(ClientQueryRules.QMaxLength)]
    public string? Q { get; init; }

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

    /// <summary>How to count the matches: exact, estimated (the planner's estimate), or none.</summary>
    [QueryParam, ParseErrorCode("count_mode_unknown"), DefaultValue("none")]
    public CountMode? Count { get; init; }

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
        RuleFor(r => r.CreatedFrom).Instant("createdFrom");
        RuleFor(r => r.CreatedTo).Instant("createdTo");
        RuleFor(r => r.UpdatedFrom).Instant("updatedFrom");
        RuleFor(r => r.UpdatedTo).Instant("updatedTo");
        RuleFor(r => r.CreatedFrom).Must((r, from) => ClientQueryRules.IsRange(from, r.CreatedTo))
            .WithMessage("createdFrom must be before createdTo.").WithErrorCode("range_invalid");
        RuleFor(r => r.UpdatedFrom).Must((r, from) => ClientQueryRules.IsRange(from, r.UpdatedTo))
            .WithMessage("updatedFrom must be before updatedTo.").WithErrorCode("range_invalid");
        RuleFor(r => r.Q).SearchText();
        RuleFor(r => r.Limit).PageLimit();
    }
}
