using FastEndpoints;
using FastEndpoints.Swagger;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ClientsApi.Features.Clients.Batch;
using NexusCore.ClientsApi.Features.Clients.Export;
using NexusCore.ClientsApi.Features.Clients.Query;
using Microsoft.Extensions.Hosting;

namespace NexusCore.ClientsApi.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var database = DatabaseOptions.From(builder.Configuration);
        builder.AddNpgsqlDataSource("clientsdb", configureDataSourceBuilder: source => database.ApplyTo(source.ConnectionStringBuilder));
        builder.Services.AddDatabaseReadRetries(database);
        // Redis's health is reported by RedisHealthCheck as "degraded", never "unhealthy": the API keeps
        // serving without it.
        // Redis's socket is read on the shared thread pool rather than StackExchange.Redis's own
        // dedicated threads: one less thread to wake per reply on a 2-core machine.
        builder.AddRedisClient("cache", settings => settings.DisableHealthChecks = true,
            options => options.SocketManager = StackExchange.Redis.SocketManager.ThreadPool);
        builder.Services.AddSingleton<QueryTelemetry>();
        builder.AddResponseCaching();

        // Kestrel:Limits (e.g. MaxRequestBodySize, 2 MB by default in appsettings.json) from configuration.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(builder.Configuration.GetSection("Kestrel"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<CursorOptions>().BindConfiguration(CursorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => new CursorSigner(
            System.Text.Encoding.UTF8.GetBytes(sp.GetRequiredService<IOptions<CursorOptions>>().Value.SigningKey)));
        builder.Services.AddOptions<ExportOptions>().BindConfiguration(ExportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<IdempotencyKeyOptions>().BindConfiguration(IdempotencyKeyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<IdempotencyKeyJanitor>();

        builder.Services.AddNexusProblemDetails();
        builder.Services.AddApiKeyAuthentication();
        builder.Services.AddNexusRateLimiting(builder.Configuration);
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
        app.UseBodylessContentTypeTolerance();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.UseFastEndpoints(config => config.UseNexusDefaults());
        app.UseSwaggerGen();
    }
}
