using FastEndpoints;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Contract;

namespace NexusCore.PerfApi.Features.Indexes.Apply;

/// <summary>
/// <c>POST /api/v1/performance/indexes/{id}/apply</c> (admin): builds the recommended index with
/// <c>CREATE INDEX CONCURRENTLY</c> (writes go on), one build at a time. Answers 200 with the application when the
/// build ended within <c>IndexAdvisor:ApplyWait</c>, else 202; both with <c>Location</c> to read the application
/// again, where the latency after the build fills in. 404 for an id no current recommendation has, 409 while
/// another build runs; a failed build is a problem (503 lock/statement timeout, 409 otherwise) saying what was
/// cleaned up.
/// </summary>
public sealed class Endpoint(IndexApplier applier, IndexAdvisor advisor) : Endpoint<Request, ApplicationResponse>
{
    public const int AnalysisRetryAfterSeconds = 5;
    public const int BuildRetryAfterSeconds = 30;

    public override void Configure()
    {
        Post("indexes/{id}/apply");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Admin);
        // No body applies with the defaults; a body must be JSON (JsonBodyWhenPresent answers 415 otherwise).
        JsonBodyWhenPresent.Apply(Definition);
        Description(d => d.WithName("applyIndex").ClearDefaultAccepts().WithMetadata(new OptionalJsonBody(typeof(Request)))
            .ClearDefaultProduces().Produces<ApplicationResponse>(200).Produces<ApplicationResponse>(202)
            .ProducesProblems([.. OpenApiDescriptions.KeyedRoute, .. OpenApiDescriptions.BodyRoute, 404, 409, 503]));
        Summary(s =>
        {
            s.Summary = "Create a recommended index concurrently and measure the latency of the statements it serves";
            s.Description = "200 when the build ended within `IndexAdvisor:ApplyWait`, else 202; both with `Location` to read the application again. " +
                            "404 `recommendation_not_found`; 409 `index_build_running` while another build runs, `index_build_failed`; " +
                            "503 `lock_timeout`, `build_timeout` or `index_analysis_failed`, each saying what was cleaned up.";
            s.ExampleRequest = new Request { Id = "0123456789abcdef", LockTimeoutSeconds = 10 };
            s.ResponseHeaders.Add(new ResponseHeader(200, "Location") { Description = "The application, to read again.", Example = "/api/v1/performance/indexes/applications/5f0c8a1e" });
            s.ResponseHeaders.Add(new ResponseHeader(202, "Location") { Description = "The application, where the build's end and the latency after it fill in.", Example = "/api/v1/performance/indexes/applications/5f0c8a1e" });
            s.RateLimited().RetryAfter(503, BuildRetryAfterSeconds, "Seconds before applying is worth retrying (5 after a refused analysis, 30 after a timed-out build).");
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var lockTimeout = request.LockTimeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : advisor.Options.LockTimeout;
        ApplyRefusal refusal;
        string? applicationId;
        try
        {
            (refusal, applicationId) = await applier.StartAsync(request.Id, lockTimeout, ct);
        }
        catch (Npgsql.NpgsqlException ex)
        {
            var error = AdvisorErrors.Describe(ex);
            HttpContext.Response.Headers.RetryAfter = AnalysisRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await SendProblemAsync(StatusCodes.Status503ServiceUnavailable, "index_analysis_failed",
                $"The database refused the analysis that checks the recommendation ({error}).", new() { ["sqlState"] = error.Code });
            return;
        }

        switch (refusal)
        {
            case ApplyRefusal.Busy:
                await SendProblemAsync(StatusCodes.Status409Conflict, "index_build_running",
                    applicationId is null
                        ? "Another index is being built (by another PerfApi instance); one build runs at a time. Retry when it has finished."
                        : "Another index is being built; one build runs at a time. Retry when it has finished.",
                    new() { ["applicationId"] = applicationId });
                return;
            case ApplyRefusal.NotFound:
                await SendProblemAsync(StatusCodes.Status404NotFound, "recommendation_not_found",
                    $"No current index recommendation has the id '{request.Id}' (an index may already serve it). GET /api/v1/performance/indexes lists them.", []);
                return;
        }

        var done = await applier.WaitAsync(applicationId!, advisor.Options.ApplyWait, ct);
        var application = (await applier.ReadAsync(applicationId!, ct))!;
        HttpContext.Response.Headers.Location = application.Self;
        if (!done)
        {
            await Send.ResponseAsync(application, StatusCodes.Status202Accepted, ct);
            return;
        }

        if (application.Status == ApplicationStatus.Succeeded)
        {
            await Send.OkAsync(application, ct);
            return;
        }

        var (status, code) = application.ErrorCode switch
        {
            Npgsql.PostgresErrorCodes.LockNotAvailable => (StatusCodes.Status503ServiceUnavailable, "lock_timeout"),
            Npgsql.PostgresErrorCodes.QueryCanceled => (StatusCodes.Status503ServiceUnavailable, "build_timeout"),
            _ => (StatusCodes.Status409Conflict, "index_build_failed"),
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            HttpContext.Response.Headers.RetryAfter = BuildRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await SendProblemAsync(status, code, $"{application.Statement} failed: {application.Error}. {application.Cleanup}.",
            new() { ["applicationId"] = application.Id, ["statement"] = application.Statement, ["cleanup"] = application.Cleanup });
    }

    private Task SendProblemAsync(int status, string code, string detail, Dictionary<string, object?> extensions)
    {
        extensions["code"] = code;
        return Send.ResultAsync(TypedResults.Problem(detail: detail, statusCode: status, extensions: extensions));
    }
}
