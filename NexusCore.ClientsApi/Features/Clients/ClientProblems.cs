using FluentValidation.Results;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>The problems the single-client routes (GET, PATCH, DELETE) share.</summary>
public static class ClientProblems
{
    /// <summary>404 for an id no client has.</summary>
    public static IResult NotFound(long id) =>
        TypedResults.Problem(detail: $"No client has id {id}.", statusCode: StatusCodes.Status404NotFound);

    /// <summary>
    /// The 400 error for an <c>If-Match</c> that is neither <c>*</c> nor a list of entity tags. Its name is
    /// lower case: FastEndpoints camel-cases error names, which would make it "if-Match".
    /// </summary>
    public static ValidationFailure InvalidIfMatch() =>
        new("if-match", "If-Match must be * or entity tags, such as the ETag a GET returned.") { ErrorCode = "if_match_invalid" };

    /// <summary>412 for an <c>If-Match</c> that names no current version: the client's current ETag, as a header and in the detail.</summary>
    public static IResult PreconditionFailed(HttpContext http, Client current)
    {
        http.Response.Headers.ETag = ClientETag.For(current);
        return TypedResults.Problem(
            detail: $"If-Match does not name the client's current version (it changed since it was read, or the tag is another client's): its current ETag is {ClientETag.For(current)}.",
            statusCode: StatusCodes.Status412PreconditionFailed);
    }
}
