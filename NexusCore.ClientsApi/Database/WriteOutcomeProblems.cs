using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace NexusCore.ClientsApi.Database;

/// <summary>
/// What ClientsApi adds to the shared 503 an outage gets: the pools are cleared when the server went away (a write
/// is never retried; at least the requests after it get fresh connections), and a write says whether it can have
/// been applied (<see cref="WriteProgress"/>), so that a client retries only what was not.
/// </summary>
internal static class WriteOutcomeProblems
{
    public static IServiceCollection AddWriteOutcomeProblems(this IServiceCollection services) =>
        services.PostConfigure<ProblemDetailsOptions>(options =>
        {
            var shared = options.CustomizeProblemDetails;
            options.CustomizeProblemDetails = context =>
            {
                shared?.Invoke(context);
                if (context.Exception is { } exception && context.ProblemDetails.Status == StatusCodes.Status503ServiceUnavailable)
                {
                    Describe(context.HttpContext, exception, context.ProblemDetails);
                }
            };
        });

    private static void Describe(HttpContext http, Exception exception, ProblemDetails problem)
    {
        http.RequestServices.GetService<DatabasePools>()?.ClearIfServerGone(exception);
        if (http.Features.Get<WriteProgress>() is not { } write)
        {
            return;
        }

        problem.Extensions["outcome"] = write.CommitSent ? WriteProgress.Unknown : WriteProgress.NotApplied;
        problem.Detail = write.CommitSent
            ? "The database did not confirm this write in time: it may or may not have been applied. Read the resource before retrying it (a batch retried with its Idempotency-Key is answered once)."
            : "The database could not serve this write in time; nothing was written. Retry after the indicated delay.";
    }
}
