using FastEndpoints;
using FluentValidation.Results;

namespace NexusCore.ClientsApi.Features.Clients.Query;

internal static class QueryErrors
{
    /// <summary>Answers 400 with one problem error per bad query parameter.</summary>
    public static Task SendQueryErrorsAsync<TRequest, TResponse>(
        this Endpoint<TRequest, TResponse> endpoint, IEnumerable<QueryError> errors, CancellationToken ct)
        where TRequest : notnull
    {
        ct.ThrowIfCancellationRequested();
        foreach (var error in errors)
        {
            endpoint.ValidationFailures.Add(new ValidationFailure(error.Name, error.Reason) { ErrorCode = error.Code });
        }

        // FastEndpoints turns the collected failures into the standard 400 problem response.
        endpoint.ThrowIfAnyErrors(StatusCodes.Status400BadRequest);
        return Task.CompletedTask;
    }
}
