using NexusCore.ClientsApi.Extensions;
using NexusCore.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWebDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseApiPipeline("NexusCore Clients API");
app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
