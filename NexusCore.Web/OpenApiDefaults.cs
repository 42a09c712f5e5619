using FastEndpoints.Swagger;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using NJsonSchema;
using NSwag;
using NSwag.Generation.AspNetCore;
using NSwag.Generation.Processors;
using NSwag.Generation.Processors.Contexts;
using Scalar.AspNetCore;

namespace NexusCore.Web;

/// <summary>
/// What every NexusCore OpenAPI document says the same way, whatever the route: the two ways to present an API
/// key (<c>X-Api-Key</c> and <c>Authorization: Bearer</c>), the role each route needs, one RFC 9457 problem
/// schema sent as <c>application/problem+json</c> for every 4xx and 5xx, the 401, 403 and 429 every secured route
/// can answer, and a stable title, version and server. Routes describe their own parameters, bodies and statuses;
/// this fills in what they share, so that no route can forget it. Also the interactive reference (Scalar, served
/// from the package's own files).
/// </summary>
public static class OpenApiDefaults
{
    /// <summary>Where each service serves its document (NSwag's default path, kept: README and clients name it).</summary>
    public const string DocumentPath = "/swagger/v1/swagger.json";

    /// <summary>Where each service serves its interactive API reference.</summary>
    public const string ReferencePath = "/scalar";

    public const string DocumentName = "v1";
    public const string Version = "v1";

    /// <summary>The security scheme for <c>X-Api-Key: &lt;key&gt;</c>.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>The security scheme for <c>Authorization: Bearer &lt;key&gt;</c> (the same key).</summary>
    public const string BearerScheme = "Bearer";

    /// <summary>The one problem component every error response refers to.</summary>
    public const string ProblemSchema = "ProblemDetails";

    public const string ProblemJson = "application/problem+json";

    /// <summary>The extension naming the role an operation needs (also said in words in its description).</summary>
    public const string RoleExtension = "x-required-role";

    /// <summary>
    /// Titles the document and installs the shared processors. Call inside <c>SwaggerDocument(...)</c>. FastEndpoints'
    /// own JWT bearer scheme is replaced by the two schemes the services accept.
    /// </summary>
    /// <param name="configure">A service's own additions to the generator settings (processors), applied last.</param>
    public static void UseNexusDefaults(this DocumentOptions options, string title, string description, Action<NSwag.Generation.AspNetCore.AspNetCoreOpenApiDocumentGeneratorSettings>? configure = null)
    {
        options.EnableJWTBearerAuth = false;
        options.DocumentSettings = settings =>
        {
            settings.DocumentName = DocumentName;
            settings.Title = title;
            settings.Version = Version;
            settings.Description = description;
            settings.OperationProcessors.Add(new SecuredOperationProcessor());
            // Bounds the request models state ([Range], [MaxLength], [AllowedValues]) onto their parameters.
            settings.OperationProcessors.Add(new ParameterRulesProcessor());
            settings.DocumentProcessors.Add(new SharedContractProcessor());
            configure?.Invoke(settings);
        };
    }

    /// <summary>
    /// Serves the document at <see cref="DocumentPath"/>, without a key. NSwag's middleware runs only for its own
    /// path (a branch): it is not on any API request's path. The server is this service's own origin, written
    /// as <c>/</c>, so the document is the same whichever host or port served it.
    /// </summary>
    public static IApplicationBuilder UseNexusOpenApiDocument(this IApplicationBuilder app) =>
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments("/swagger"),
            branch => branch.UseOpenApi(settings =>
            {
                settings.DocumentName = DocumentName;
                settings.Path = DocumentPath;
                settings.PostProcess = (document, _) =>
                {
                    document.Servers.Clear();
                    document.Servers.Add(new OpenApiServer { Url = "/", Description = "This service: the origin that serves this document." });
                };
            }));

    /// <summary>
    /// Maps the interactive reference at <see cref="ReferencePath"/> (Scalar). Its page, script and icon are
    /// endpoints in the route table, not middleware: a request to any other path runs none of their code (the
    /// route matcher tells <c>/scalar</c> from <c>/api</c> in its first segment, as it does for any route).
    /// The script is the package's embedded copy and the default web fonts (loaded from Scalar's CDN) are off,
    /// so the page loads nothing from outside the service.
    /// </summary>
    public static IEndpointConventionBuilder MapNexusApiReference(this IEndpointRouteBuilder endpoints, string title) =>
        endpoints.MapScalarApiReference(ReferencePath, options =>
        {
            options.Title = title;
            options.OpenApiRoutePattern = "/swagger/{documentName}/swagger.json";
            options.AddDocument(DocumentName);
            options.DefaultFonts = false;
            options.BundleUrl = null;
            options.ProxyUrl = null;
            options.AddPreferredSecuritySchemes(ApiKeyScheme);
        });

    /// <summary>The problem schema (RFC 9457 with this product's members), as every error response carries it.</summary>
    internal static JsonSchema CreateProblemSchema()
    {
        var error = new JsonSchema
        {
            Type = JsonObjectType.Object,
            Description = "One thing wrong with the request: the field, parameter or header it concerns, why, and a code a client can act on.",
        };
        error.RequiredProperties.Add("name");
        error.RequiredProperties.Add("reason");
        error.RequiredProperties.Add("code");
        error.Properties["name"] = new JsonSchemaProperty { Type = JsonObjectType.String, Description = "The field, parameter or header, as the request named it." };
        error.Properties["reason"] = new JsonSchemaProperty { Type = JsonObjectType.String, Description = "What is wrong with it, in words." };
        error.Properties["code"] = new JsonSchemaProperty { Type = JsonObjectType.String, Description = "A stable code (e.g. `unknown_parameter`, `email_taken`)." };

        var problem = new JsonSchema
        {
            Type = JsonObjectType.Object,
            Description = "An RFC 9457 problem document. Every 4xx and 5xx is one, whatever Accept asks for.",
        };
        foreach (var required in new[] { "type", "title", "status", "traceId" })
        {
            problem.RequiredProperties.Add(required);
        }

        problem.Properties["type"] = new JsonSchemaProperty
        {
            Type = JsonObjectType.String,
            Format = JsonFormatStrings.Uri,
            Description = "A stable URI naming the kind of failure, e.g. `https://nexuscore.dev/problems/validation`.",
        };
        problem.Properties["title"] = new JsonSchemaProperty { Type = JsonObjectType.String, Description = "The status code's reason phrase." };
        problem.Properties["status"] = new JsonSchemaProperty { Type = JsonObjectType.Integer, Format = "int32", Minimum = 400, Maximum = 599 };
        problem.Properties["detail"] = new JsonSchemaProperty { Type = JsonObjectType.String, Description = "What went wrong with this request." };
        problem.Properties["instance"] = new JsonSchemaProperty { Type = JsonObjectType.String, Description = "The request's path." };
        problem.Properties["traceId"] = new JsonSchemaProperty
        {
            Type = JsonObjectType.String,
            Description = "The request's W3C trace context id (`00-{trace id}-{span id}-{flags}`): the trace to look up in the dashboard.",
        };
        problem.Properties["errors"] = new JsonSchemaProperty
        {
            Type = JsonObjectType.Array,
            Item = error,
            Description = "Field, parameter or header errors, one per thing wrong.",
        };
        var outcome = new JsonSchemaProperty
        {
            Type = JsonObjectType.String,
            Description = "A write's 503 only: `not_applied` (retry it) or `unknown` (read the resource, or retry a batch with its Idempotency-Key).",
        };
        outcome.Enumeration.Add("not_applied");
        outcome.Enumeration.Add("unknown");
        problem.Properties["outcome"] = outcome;
        return problem;
    }

    /// <summary>
    /// Per operation: the statuses the shared pipeline can answer on any route (400 for a malformed request or an
    /// unknown parameter, 414, 431, and 413 and 415 where a body is read); from the endpoint's own authorization
    /// metadata, the two schemes on every route that needs a key (either one), the role in words and in
    /// <see cref="RoleExtension"/>, and 401, 403 and 429. A route open to anyone says so (an empty security list).
    /// </summary>
    private sealed class SecuredOperationProcessor : IOperationProcessor
    {
        public bool Process(OperationProcessorContext context)
        {
            var operation = context.OperationDescription.Operation;
            foreach (var header in operation.Parameters.Where(p => p.Kind == OpenApiParameterKind.Header))
            {
                header.Name = CanonicalHeaderName(header.Name);
            }

            AddIfMissing(operation, StatusCodes.Status400BadRequest, "The request is not valid: a parameter, header or field is missing, unknown, repeated or wrong (`errors[]` names each).");
            AddIfMissing(operation, StatusCodes.Status414UriTooLong, "The path and query are longer than the services accept.");
            AddIfMissing(operation, StatusCodes.Status431RequestHeaderFieldsTooLarge, "The request's headers are larger, or more, than the services accept.");
            if (operation.RequestBody is not null)
            {
                AddIfMissing(operation, StatusCodes.Status413PayloadTooLarge, "The body is larger than this route accepts.");
                AddIfMissing(operation, StatusCodes.Status415UnsupportedMediaType, "The body's Content-Type is not one this route reads.");
            }

            IList<object> metadata = context is AspNetCoreOperationProcessorContext aspNetCore
                ? aspNetCore.ApiDescription.ActionDescriptor.EndpointMetadata
                : Array.Empty<object>();
            var open = metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any();
            if (open)
            {
                // "security: []" says the route is open on purpose. NSwag's writer leaves empty collections out,
                // so the empty list is written as the member itself.
                operation.Security = null;
                operation.ExtensionData ??= new Dictionary<string, object?>();
                operation.ExtensionData["security"] = Array.Empty<object>();
                return true;
            }

            operation.Security =
            [
                new OpenApiSecurityRequirement { [ApiKeyScheme] = [] },
                new OpenApiSecurityRequirement { [BearerScheme] = [] },
            ];

            var roles = RequiredRoles(metadata);
            if (roles.Count > 0)
            {
                operation.ExtensionData ??= new Dictionary<string, object?>();
                operation.ExtensionData[RoleExtension] = string.Join(",", roles);
                var sentence = RoleSentence(roles);
                operation.Description = string.IsNullOrWhiteSpace(operation.Description) ? sentence : operation.Description.TrimEnd() + "\n\n" + sentence;
            }

            AddIfMissing(operation, StatusCodes.Status401Unauthorized, "No API key, or one that is unknown or revoked (`WWW-Authenticate` names both ways to send one).");
            AddIfMissing(operation, StatusCodes.Status403Forbidden, "The API key's role does not allow this operation.");
            var tooMany = AddIfMissing(operation, StatusCodes.Status429TooManyRequests, "This API key (or address) is over its rate limit; retry after `Retry-After` seconds.");
            if (!tooMany.Headers.ContainsKey("Retry-After"))
            {
                tooMany.Headers["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before retrying.",
                    Schema = new JsonSchema { Type = JsonObjectType.Integer, Minimum = 1 },
                };
            }

            GiveResponseHeadersASchema(operation);
            return true;
        }

        /// <summary>
        /// A response header a route declares by name and description only (FastEndpoints' <c>ResponseHeader</c>
        /// without an example) has no schema, which OpenAPI requires: seconds (<c>Age</c>, <c>Retry-After</c>) are
        /// integers, every other header a string.
        /// </summary>
        private static void GiveResponseHeadersASchema(OpenApiOperation operation)
        {
            foreach (var response in operation.Responses.Values)
            {
                foreach (var (name, header) in response.Headers)
                {
                    if (header.Schema is null)
                    {
                        header.Schema = name is "Age" or "Retry-After"
                            ? new JsonSchema { Type = JsonObjectType.Integer, Minimum = 0 }
                            : new JsonSchema { Type = JsonObjectType.String };
                    }
                }
            }
        }

        /// <summary>
        /// A header's name as HTTP writes it (<c>If-Match</c>, <c>Idempotency-Key</c>): the JSON naming policy that
        /// names query parameters would otherwise write <c>if-Match</c>. Header names are case-insensitive, so
        /// this changes only what a reader and a generated client see.
        /// </summary>
        private static string CanonicalHeaderName(string name) =>
            string.Join('-', name.Split('-').Select(part => part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));

        /// <summary>
        /// The roles the endpoint requires, as its authorization metadata names them (FastEndpoints' <c>Roles(...)</c>
        /// becomes <see cref="IAuthorizeData.Roles"/>, or a policy with a roles requirement).
        /// </summary>
        private static List<string> RequiredRoles(IList<object> metadata)
        {
            var roles = metadata.OfType<IAuthorizeData>()
                .Where(a => !string.IsNullOrWhiteSpace(a.Roles))
                .SelectMany(a => a.Roles!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                .Concat(metadata.OfType<AuthorizationPolicy>()
                    .SelectMany(p => p.Requirements.OfType<Microsoft.AspNetCore.Authorization.Infrastructure.RolesAuthorizationRequirement>())
                    .SelectMany(r => r.AllowedRoles))
                .Distinct(StringComparer.Ordinal)
                .ToList();
            return roles;
        }

        /// <summary>"Needs a key of role `writer` (keys of role writer or admin)": who may call, in the roles README names.</summary>
        private static string RoleSentence(IReadOnlyList<string> required)
        {
            var holders = ApiRoles.All.Where(keyRole => ApiRoles.Granted(keyRole).Any(required.Contains)).ToList();
            var needs = string.Join(" or ", required.Select(r => $"`{r}`"));
            return $"**Role:** {needs}. Send an API key whose role is {string.Join(", ", holders.Select(h => $"`{h}`"))} "
                + $"(`X-Api-Key: <key>` or `Authorization: Bearer <key>`).";
        }

        private static OpenApiResponse AddIfMissing(OpenApiOperation operation, int status, string description)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!operation.Responses.TryGetValue(key, out var response))
            {
                response = new OpenApiResponse { Description = description };
                operation.Responses[key] = response;
            }

            return response;
        }
    }

    /// <summary>
    /// After every operation is built: the security schemes, one problem component in place of FastEndpoints'
    /// <c>ErrorResponse</c> (<c>{statusCode, message, errors}</c>, which no route sends) and of its own problem type,
    /// <c>application/problem+json</c> on every 4xx and 5xx that does not declare a body of its own, and schema
    /// fixes every route needs.
    /// </summary>
    private sealed class SharedContractProcessor : IDocumentProcessor
    {
        public void Process(DocumentProcessorContext context)
        {
            var document = context.Document;
            document.Components.SecuritySchemes.Clear();
            document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = OpenApiSecuritySchemeType.ApiKey,
                In = OpenApiSecurityApiKeyLocation.Header,
                Name = ApiKeyAuthentication.HeaderName,
                Description = "The caller's API key. Each key has a role: reader, writer (includes reader), admin (includes writer) or ingest (PerfApi's OTLP receiver only).",
            };
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = OpenApiSecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The same API key, sent as `Authorization: Bearer <key>` (it is not a JWT).",
            };

            var problem = CreateProblemSchema();
            var replaced = document.Components.Schemas
                .Where(s => IsFastEndpointsErrorSchema(s.Key))
                .ToList();
            var replacedSchemas = replaced.Select(s => s.Value).ToHashSet();
            foreach (var (key, _) in replaced)
            {
                document.Components.Schemas.Remove(key);
            }

            document.Components.Schemas[ProblemSchema] = problem;
            foreach (var schema in document.Components.Schemas.Values)
            {
                TypeNullableReferences(schema, []);
            }

            // A nullable parameter of an enum type (a list's sort, order) is written the same way.
            foreach (var parameter in document.Operations.SelectMany(o => o.Operation.Parameters))
            {
                if (parameter.Schema is { IsNullableRaw: true, Type: JsonObjectType.None } nullable
                    && nullable.OneOf.Concat(nullable.AllOf).ToList() is [var only] && only.ActualSchema.Type is var type && type != JsonObjectType.None)
                {
                    nullable.Type = type;
                }
            }

            RequireWhatResponsesAlwaysHold(document, problem);

            foreach (var operation in document.Operations.Select(o => o.Operation))
            {
                foreach (var (status, response) in operation.Responses)
                {
                    if (!int.TryParse(status, out var code))
                    {
                        continue;
                    }

                    // An error the route declared without a body, or with FastEndpoints' error types, is a problem; one it
                    // declared with a body of its own keeps it (PerfApi's 503 health answer is its status word).
                    var isProblem = (code >= 400 && response.Content.Count == 0)
                        || response.Content.Values.Any(media => media.Schema?.ActualSchema is { } schema && replacedSchemas.Contains(schema));
                    if (!isProblem)
                    {
                        continue;
                    }

                    if (string.IsNullOrWhiteSpace(response.Description))
                    {
                        response.Description = ReasonPhrases.GetReasonPhrase(code);
                    }

                    response.Content.Clear();
                    response.Content[ProblemJson] = new OpenApiMediaType { Schema = new JsonSchema { Reference = problem } };
                }
            }
        }

        /// <summary>
        /// A response's non-nullable members are always written (the services' JSON never leaves out a non-null
        /// value), so in schemas that only responses use they are <c>required</c>: a generated client then types
        /// them as present. Schemas a request also uses are left as the routes declare them.
        /// </summary>
        private static void RequireWhatResponsesAlwaysHold(OpenApiDocument document, JsonSchema problem)
        {
            var sent = new HashSet<JsonSchema>();
            var received = new HashSet<JsonSchema>();
            foreach (var operation in document.Operations.Select(o => o.Operation))
            {
                foreach (var media in operation.Responses.Values.SelectMany(r => r.ActualResponse.Content.Values))
                {
                    Reachable(media.Schema, sent);
                }

                foreach (var media in operation.RequestBody?.ActualRequestBody.Content.Values ?? [])
                {
                    Reachable(media.Schema, received);
                }

                foreach (var parameter in operation.Parameters)
                {
                    Reachable(parameter.Schema, received);
                }
            }

            foreach (var schema in sent.Where(s => !received.Contains(s) && s != problem && s.Type.HasFlag(JsonObjectType.Object)))
            {
                foreach (var property in schema.Properties.Values.Where(p => !p.IsNullable(SchemaType.OpenApi3)))
                {
                    property.IsRequired = true;
                }
            }
        }

        /// <summary>Every schema <paramref name="schema"/> is or holds, through references, properties, items and values.</summary>
        private static void Reachable(JsonSchema? schema, HashSet<JsonSchema> found)
        {
            if (schema is null)
            {
                return;
            }

            var actual = schema.ActualSchema;
            if (!found.Add(actual))
            {
                return;
            }

            foreach (var property in actual.Properties.Values)
            {
                Reachable(property, found);
            }

            foreach (var part in actual.OneOf.Concat(actual.AllOf).Concat(actual.AnyOf))
            {
                Reachable(part, found);
            }

            Reachable(actual.Item, found);
            Reachable(actual.AdditionalPropertiesSchema, found);
        }

        /// <summary>
        /// A nullable property whose type is another schema is written <c>{nullable: true, oneOf: [{$ref}]}</c>; OpenAPI
        /// 3.0 gives <c>nullable</c> a meaning only beside <c>type</c>, so the referenced schema's type is added
        /// (linters refuse it without; generators then read <c>X | null</c>).
        /// </summary>
        private static void TypeNullableReferences(JsonSchema schema, HashSet<JsonSchema> seen)
        {
            if (!seen.Add(schema))
            {
                return;
            }

            foreach (var property in schema.Properties.Values)
            {
                if (property.IsNullableRaw == true && property.Type == JsonObjectType.None
                    && property.OneOf.Concat(property.AllOf).ToList() is [var only] && only.ActualSchema.Type is var type && type != JsonObjectType.None)
                {
                    property.Type = type;
                }

                TypeNullableReferences(property, seen);
            }

            if (schema.Item is { } item)
            {
                TypeNullableReferences(item, seen);
            }

            if (schema.AdditionalPropertiesSchema is { } values)
            {
                TypeNullableReferences(values, seen);
            }
        }

        /// <summary>
        /// FastEndpoints' <c>ErrorResponse</c> and <c>ProblemDetails</c> (with their error item), whatever the schema
        /// name generator called them (short or full names).
        /// </summary>
        private static bool IsFastEndpointsErrorSchema(string name) =>
            name.Contains("ErrorResponse", StringComparison.Ordinal)
            || name.Contains("ProblemDetails", StringComparison.Ordinal);
    }
}
