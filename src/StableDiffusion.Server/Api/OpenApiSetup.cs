using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace StableDiffusion.Server.Api;

/// <summary>Swashbuckle: <c>/openapi/v1.json</c> and the UI at <c>/swagger</c>, with request and response examples.</summary>
internal static class OpenApiSetup
{
    public static IServiceCollection AddServerOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "StableDiffusion.Server",
                Version = "v1",
                Description = "Stable Diffusion on ONNX Runtime, wire-compatible with Replicate's predictions API. "
                    + "Optional bearer API keys (Authorization: Bearer KEY) when Auth:ApiKeys is set.",
            });
            o.AddSecurityDefinition("bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "API key from Auth:ApiKeys (only when keys are configured).",
            });
            o.OperationFilter<ExamplesFilter>();
        });
        return services;
    }

    public static WebApplication MapServerOpenApi(this WebApplication app)
    {
        app.UseSwagger(o => o.RouteTemplate = "openapi/{documentName}.json");
        app.UseSwaggerUI(o =>
        {
            o.RoutePrefix = "swagger";
            // Relative to /swagger/index.html, so the UI finds its document behind a path prefix (/sd/swagger → /sd/openapi/v1.json).
            o.SwaggerEndpoint("../openapi/v1.json", "StableDiffusion.Server v1");
        });
        return app;
    }

    /// <summary>Adds the examples and headers endpoints carry as metadata (see <see cref="OpenApiExamples"/>), and problem examples.</summary>
    private sealed class ExamplesFilter : IOperationFilter
    {
        private static readonly Dictionary<string, string> ProblemTitles = new()
        {
            ["401"] = "Unauthorized",
            ["404"] = "Not found",
            ["413"] = "Body too large",
            ["429"] = "Rate limit exceeded",
            ["503"] = "Shutting down",
        };

        /// <summary>Every problem response gets an example of its own status, unless a specific one is set.</summary>
        private static void AddProblemExamples(OpenApiOperation operation)
        {
            foreach (var (status, response) in operation.Responses ?? [])
            {
                if (response.Content?.TryGetValue("application/problem+json", out var media) == true && media is OpenApiMediaType m
                    && m.Example is null && ProblemTitles.TryGetValue(status, out var title))
                {
                    m.Example = new JsonObject
                    {
                        ["type"] = "about:blank",
                        ["title"] = title,
                        ["status"] = int.Parse(status, System.Globalization.CultureInfo.InvariantCulture),
                        ["detail"] = title + ": see detail for the reason.",
                    };
                }
            }
        }

        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            foreach (var header in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<OpenApiHeaderMetadata>())
            {
                AddHeader(operation, header.Name, header.Description);
            }
            // Surfaces may carry their own examples as endpoint metadata (see OpenApiExamples).
            foreach (var example in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<OpenApiExampleMetadata>())
            {
                if (example.Status is null)
                {
                    SetRequestExample(operation, example.Example);
                }
                else
                {
                    SetResponseExample(operation, example.Status, example.Example);
                }
            }
            AddProblemExamples(operation);
            if (context.ApiDescription.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [] });
            }
        }

        private static void SetRequestExample(OpenApiOperation operation, JsonNode example)
        {
            if (operation.RequestBody?.Content is { } content)
            {
                foreach (var media in content.Values)
                {
                    if (media is OpenApiMediaType m)
                    {
                        m.Example = example.DeepClone();
                    }
                }
            }
        }

        private static void SetResponseExample(OpenApiOperation operation, string status, JsonNode example)
        {
            if (operation.Responses is { } responses && responses.TryGetValue(status, out var response) && response.Content is { } content)
            {
                foreach (var media in content.Values)
                {
                    if (media is OpenApiMediaType m)
                    {
                        m.Example = example.DeepClone();
                    }
                }
            }
        }

        private static void AddHeader(OpenApiOperation operation, string name, string description)
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Header,
                Required = false,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }
}
