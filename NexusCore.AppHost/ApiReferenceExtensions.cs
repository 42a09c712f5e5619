namespace NexusCore.AppHost;

/// <summary>
/// Links a service's interactive API reference (<c>/scalar</c>) and its OpenAPI document from the dashboard's
/// resource URLs, beside the endpoint itself. The paths are the services' (ServiceDefaults' <c>OpenApiDefaults</c>).
/// </summary>
internal static class ApiReferenceExtensions
{
    public const string ReferencePath = "/scalar/";
    public const string DocumentPath = "/swagger/v1/swagger.json";

    public static IResourceBuilder<ProjectResource> WithApiReference(this IResourceBuilder<ProjectResource> service) =>
        service
            .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = endpoint.Url + ReferencePath, DisplayText = "API reference (Scalar)" })
            .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = endpoint.Url + DocumentPath, DisplayText = "OpenAPI document" });
}
