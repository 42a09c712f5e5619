using NexusCore.PerfApi.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseApplicationPipeline();
app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
