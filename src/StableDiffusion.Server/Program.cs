using Serilog;
using StableDiffusion.Server.Api;
using StableDiffusion.Server.Api.Edges;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Telemetry;
using StableDiffusion.Server.Webhooks;
using StableDiffusion.Server.Worker;

var builder = WebApplication.CreateBuilder(args);

// The one configuration file is the repository root's appsettings.json, copied next to the binaries (DESIGN §1).
// It goes first, so environment variables and the command line still override it (the listening address is its
// "Urls" key: override it with Urls=… or --urls; ASPNETCORE_URLS is host configuration and loses to it).
builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
{
    Path = "appsettings.json",
    Optional = false,
    ReloadOnChange = false,
    FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
});

builder.Services.AddServerOptions();
builder.AddServerTelemetry();
builder.Services.AddJobs().AddWorkers(builder.Configuration).AddWebhooks();
builder.Services.AddApiEdges();
builder.Services.AddRequestGuards();
builder.Services.AddServerOpenApi();

var app = builder.Build();

app.UseForwardedHeadersFromConfig();
app.UseSerilogRequestLogging();
app.UseApiEdges();
app.UseRequestGuards();
app.UsePlayground();
app.MapServerOpenApi();
app.MapOperations();
app.MapV1().MapPredictions().MapModels().MapFiles().MapWebhooks();
app.MapOpenAiImages(); app.MapAutomatic1111();

app.Run();

/// <summary>Entry point type, visible to WebApplicationFactory.</summary>
public partial class Program;
