using FastEndpoints;
using FastEndpoints.Swagger;
using Microsoft.Extensions.Hosting;

namespace NexusCore.ClientsApi.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("clientsdb");
        builder.AddRedisClient("cache");

        builder.Services.AddNexusProblemDetails();
        builder.Services.AddFastEndpoints();
        builder.Services.SwaggerDocument(options =>
        {
            options.DocumentSettings = settings =>
            {
                settings.Title = "NexusCore Clients API";
                settings.Version = "v1";
            };
        });
    }

    public static void UseApplicationPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.UseFastEndpoints(config => config.UseNexusDefaults());
        app.UseSwaggerGen();
    }
}
