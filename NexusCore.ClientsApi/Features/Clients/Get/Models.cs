using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.Get;

public sealed class Request
{
    /// <summary>The client's id, a whole number from 1.</summary>
    [RouteParam, ParseErrorCode("id_invalid"), Range(1, long.MaxValue)]
    public long Id { get; init; }

    /// <summary>The client's ETag from an earlier read: 304 while it is current.</summary>
    [FromHeader("If-None-Match", IsRequired = false, RemoveFromSchema = true)]
    public string? IfNoneMatch { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() => RuleFor(r => r.Id).ClientId();
}
