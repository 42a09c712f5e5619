using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.Delete;

/// <summary>No body: the route's id and, optionally, an <c>If-Match</c> header.</summary>
public sealed class Request
{
    /// <summary>The client's id, a whole number from 1.</summary>
    [RouteParam, ParseErrorCode("id_invalid"), Range(1, long.MaxValue)]
    public long Id { get; init; }

    /// <summary><c>*</c> or one or more ETags: the client is deleted only at a version named, else 412.</summary>
    [FromHeader("If-Match", IsRequired = false, RemoveFromSchema = true)]
    public string? IfMatch { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() => RuleFor(r => r.Id).ClientId();
}
