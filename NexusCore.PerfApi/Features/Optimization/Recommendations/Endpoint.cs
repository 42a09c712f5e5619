using FastEndpoints;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Analysis.Recommendations;
using NexusCore.PerfApi.Contract;
using NexusCore.ServiceDefaults;

namespace NexusCore.PerfApi.Features.Optimization.Recommendations;

/// <summary>
/// <c>GET /api/v1/performance/optimization/recommendations?window=5m|15m|1h</c> (reader, default 15m): the advice of
/// every <see cref="IRecommendationRule"/> over the window, with the evidence behind it, and the active alerts.
/// </summary>
public sealed partial class Endpoint(
    IEnumerable<IRecommendationRule> rules,
    PerformanceReader reader,
    AlertBoard alerts,
    IOptionsMonitor<RecommendationOptions> options,
    IOptionsMonitor<AlertOptions> alertOptions,
    IOptionsMonitor<SlowQueryOptions> slowQueries) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("optimization/recommendations");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("getRecommendations").ClearDefaultProduces().Produces<Response>().ProducesProblems(OpenApiDescriptions.KeyedRoute));
        Summary(s =>
        {
            s.Summary = "Optimization recommendations with their evidence, and the active alerts";
            s.Params["window"] = "The figures the rules look at: 5m, 15m or 1h.";
            s.RateLimited();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var window = TimeWindow.Named(request.Window);

        var active = alerts.Active;
        var context = new RecommendationContext(
            reader, window.Span, slowQueries.CurrentValue.Threshold, options.CurrentValue, alertOptions.CurrentValue, active);
        var advice = new List<Recommendation>();
        var failed = new List<string>();
        foreach (var rule in rules)
        {
            try
            {
                advice.AddRange(await rule.EvaluateAsync(context, ct));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // One rule's failure (a database it reads being down, a bug) must not take the others' advice away.
                LogRuleFailed(ex, rule.Name);
                failed.Add(rule.Name);
            }
        }

        await Send.OkAsync(
            new Response(
                window.Name,
                reader.Now,
                context.SlowQueryThreshold.TotalSeconds,
                advice.OrderBy(r => r.Priority).ToList(),
                active,
                failed),
            ct);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Recommendation rule {Rule} failed; its advice is left out")]
    private partial void LogRuleFailed(Exception exception, string rule);
}
