using Microsoft.AspNetCore.Http;

namespace NexusCore.ClientsApi.Database;

/// <summary>
/// How far a request's database write got, for the answer to a request that then fails on an outage.
/// Until its <c>COMMIT</c> is sent nothing the write did can be applied: Postgres rolls back a
/// transaction whose connection breaks or whose statement is cancelled. From then on it may have been
/// applied though no acknowledgement came back (a frozen or restarting server), so the 503 says so
/// instead of inviting a blind retry.
/// </summary>
public sealed class WriteProgress
{
    /// <summary>The values of the <c>outcome</c> member of a write's 503 problem.</summary>
    public const string NotApplied = "not_applied";

    /// <inheritdoc cref="NotApplied"/>
    public const string Unknown = "unknown";

    public bool CommitSent { get; private set; }

    /// <summary>Call right before sending the <c>COMMIT</c> (or the only statement, in autocommit).</summary>
    public void CommitSending() => CommitSent = true;

    /// <summary>Marks the request as a write whose progress its outage answer reports.</summary>
    public static WriteProgress Start(HttpContext context)
    {
        var progress = new WriteProgress();
        context.Features.Set(progress);
        return progress;
    }
}
