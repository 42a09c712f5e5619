using FastEndpoints;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;
using NexusCore.ClientsApi.Extensions;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.Export;

/// <summary>
/// <c>GET /api/v1/optimized/clients/bulk-export</c> (admin): every client matching the search filters,
/// streamed as CSV (<c>Accept: text/csv</c>, the default) or NDJSON (<c>Accept: application/x-ndjson</c>)
/// from one consistent snapshot, in constant memory.
/// </summary>
public sealed class Endpoint(NpgsqlDataSource db, IOptions<ExportOptions> options, QueryTelemetry telemetry) : Endpoint<Request>
{
    public override void Configure()
    {
        Get("bulk-export");
        Group<OptimizedClientsGroup>();
        Options(route => route.RequireRateLimiting(RateLimitingDefaults.ExportPolicy));
        Roles(ApiRoles.Admin);
        Description(
            d => d.ClearDefaultProduces().WithName("exportClients").Produces<string>(200, Writers.Csv, Writers.Ndjson).Problems(406, 503));
        Summary(s =>
        {
            s.Summary = "Export clients as CSV or NDJSON";
            s.Description = "Every client matching the filters, streamed from one snapshot: CSV (RFC 4180; a cell beginning with =, +, -, @, tab or CR "
                + "gets a leading ') by default or for Accept: text/csv, NDJSON for Accept: application/x-ndjson; 406 for other types. Role: admin.";
            s.RetryAfterHeaders();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var filter = ClientQueryRules.Filter(
            request.Status, request.ProgramType, request.CreatedFrom, request.CreatedTo, request.UpdatedFrom, request.UpdatedTo, request.Q);

        // An Accept header that is not a media-type list parses to nothing; it is refused like one naming
        // other types, rather than read as "no preference".
        var accept = HttpContext.Request.GetTypedHeaders().Accept;
        var acceptSent = HttpContext.Request.Headers.Accept.Any(value => !string.IsNullOrWhiteSpace(value));
        if ((acceptSent && accept.Count == 0) || Negotiate(accept) is not { } format)
        {
            await Send.ResultAsync(TypedResults.Problem(
                detail: $"bulk-export writes {Writers.Csv} or {Writers.Ndjson}; send one of them in Accept.",
                statusCode: StatusCodes.Status406NotAcceptable));
            return;
        }

        var response = HttpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = format + "; charset=utf-8";
        response.Headers.ContentDisposition =
            $"attachment; filename=\"clients-{DateTime.UtcNow:yyyyMMddTHHmmssZ}.{(format == Writers.Csv ? "csv" : "ndjson")}\"";
        if (HeadRequests.IsHead(HttpContext))
        {
            // What a GET would answer, without reading a row: its filters and Accept were valid.
            await response.StartAsync(ct);
            return;
        }

        using var query = telemetry.Start("export", "SELECT");
        var (command, reader) = await Data.OpenAsync(db, filter, options.Value.CommandTimeoutSeconds, ct);
        await using (command)
        await using (reader)
        {
            try
            {
                query.Rows = (int)Math.Min(int.MaxValue, format == Writers.Csv
                    ? await Writers.WriteCsvAsync(reader, response.Body, ct)
                    : await Writers.WriteNdjsonAsync(reader, response.BodyWriter, ct));
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException && response.HasStarted)
            {
                // Headers are gone: abort so the client sees a broken transfer, never a short file that looks whole.
                HttpContext.Abort();
            }
        }
    }

    private static string? Negotiate(IList<MediaTypeHeaderValue> accept)
    {
        if (accept.Count == 0)
        {
            return Writers.Csv;
        }

        foreach (var media in accept.OrderByDescending(a => a.Quality ?? 1))
        {
            if (media.Quality == 0)
            {
                continue;
            }

            var type = media.MediaType.Value;
            if (string.Equals(type, Writers.Csv, StringComparison.OrdinalIgnoreCase) || type is "*/*" or "text/*")
            {
                return Writers.Csv;
            }

            if (string.Equals(type, Writers.Ndjson, StringComparison.OrdinalIgnoreCase)
                || string.Equals(type, "application/jsonl", StringComparison.OrdinalIgnoreCase))
            {
                return Writers.Ndjson;
            }
        }

        return null;
    }
}
