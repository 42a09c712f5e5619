using FastEndpoints;
using FluentValidation;

namespace NexusCore.PerfApi.Features.Indexes.Apply;

/// <summary>The recommendation (route) and, optionally, how long the build may wait for locks.</summary>
/// <param name="LockTimeoutSeconds">The build's lock_timeout; default <c>IndexAdvisor:LockTimeout</c> (10 s), 0.01 to 600.</param>
public sealed class Request
{
    public const double MinLockTimeoutSeconds = 0.01;
    public const double MaxLockTimeoutSeconds = 600;

    /// <summary>The recommendation's id, as <c>GET /api/v1/performance/indexes</c> lists it.</summary>
    public string Id { get; init; } = "";

    /// <summary>The build's lock_timeout in seconds, 0.01 to 600; <c>IndexAdvisor:LockTimeout</c> (10 s) when left out.</summary>
    public double? LockTimeoutSeconds { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() =>
        RuleFor(r => r.LockTimeoutSeconds).InclusiveBetween(Request.MinLockTimeoutSeconds, Request.MaxLockTimeoutSeconds)
            .WithMessage($"lockTimeoutSeconds must be from {Request.MinLockTimeoutSeconds} to {Request.MaxLockTimeoutSeconds}.")
            .WithErrorCode("lock_timeout_out_of_range");
}
