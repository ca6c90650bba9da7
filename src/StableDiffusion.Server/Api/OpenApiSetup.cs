using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace StableDiffusion.Server.Api;

/// <summary>Swashbuckle: <c>/openapi/v1.json</c> and the UI at <c>/swagger</c>, with request and response examples.</summary>
public static class OpenApiSetup
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

    /// <summary>Adds examples to operations by endpoint name.</summary>
    private sealed class ExamplesFilter : IOperationFilter
    {
        private static readonly JsonObject RequestExample = new()
        {
            ["version"] = "demo-random-weights",
            ["input"] = new JsonObject
            {
                ["prompt"] = "an astronaut riding a horse on the moon",
                ["negative_prompt"] = "blurry",
                ["width"] = 512,
                ["height"] = 512,
                ["num_outputs"] = 1,
                ["num_inference_steps"] = 25,
                ["guidance_scale"] = 7.5,
                ["scheduler"] = "K_EULER",
                ["seed"] = 42,
                ["output_format"] = "png",
            },
            ["webhook"] = "https://example.com/hooks/sd",
            ["webhook_events_filter"] = new JsonArray("start", "completed"),
        };

        private static JsonObject PredictionExample(string status) => new()
        {
            ["id"] = "rrr4z55ocneqzikepnug6xezpe",
            ["model"] = "local/demo-random-weights",
            ["version"] = "demo-random-weights",
            ["input"] = RequestExample["input"]!.DeepClone(),
            ["logs"] = status == "starting" ? "" : "Using seed: 42\n 48%|████▊     | 12/25 [00:01<00:01,  9.80it/s]\n",
            ["output"] = status == "succeeded" ? new JsonArray("https://sd.example.com/v1/files/k4tq2mrwkzmm5dc7ztg5b4lq3e") : null,
            ["error"] = null,
            ["status"] = status,
            ["created_at"] = "2026-01-01T12:00:00.000000Z",
            ["started_at"] = status == "starting" ? null : "2026-01-01T12:00:00.250000Z",
            ["completed_at"] = status == "succeeded" ? "2026-01-01T12:00:03.100000Z" : null,
            ["urls"] = new JsonObject
            {
                ["get"] = "https://sd.example.com/v1/predictions/rrr4z55ocneqzikepnug6xezpe",
                ["cancel"] = "https://sd.example.com/v1/predictions/rrr4z55ocneqzikepnug6xezpe/cancel",
                ["stream"] = "https://sd.example.com/v1/predictions/rrr4z55ocneqzikepnug6xezpe/stream",
            },
            ["metrics"] = new JsonObject
            {
                ["predict_time"] = status == "succeeded" ? 2.85 : null,
                ["queue_time"] = status == "starting" ? null : 0.25,
            },
        };

        private static readonly JsonObject ValidationExample = new()
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            ["title"] = "The request is invalid",
            ["status"] = 400,
            ["detail"] = "See errors: each names the field at fault.",
            ["errors"] = new JsonObject { ["width"] = new JsonArray("must be a multiple of 8") },
        };

        private static readonly JsonObject QueueFullExample = new()
        {
            ["type"] = "https://tools.ietf.org/html/rfc6585#section-4",
            ["title"] = "Queue full",
            ["status"] = 429,
            ["detail"] = "All 64 queue slots are taken; retry after 5 s. No prediction was created.",
        };

        private static readonly JsonObject ModelExample = new()
        {
            ["url"] = "https://sd.example.com/v1/models/local/demo-random-weights",
            ["owner"] = "local",
            ["name"] = "demo-random-weights",
            ["description"] = "Synthetic demo model with random weights: its images are noise.",
            ["visibility"] = "public",
            ["github_url"] = null,
            ["paper_url"] = null,
            ["license_url"] = null,
            ["run_count"] = 0,
            ["cover_image_url"] = null,
            ["default_example"] = null,
            ["latest_version"] = new JsonObject
            {
                ["id"] = "demo-random-weights",
                ["created_at"] = "1970-01-01T00:00:00.000000Z",
                ["cog_version"] = null,
                ["openapi_schema"] = new JsonObject
                {
                    ["openapi"] = "3.0.2",
                    ["components"] = new JsonObject
                    {
                        ["schemas"] = new JsonObject
                        {
                            ["Input"] = new JsonObject
                            {
                                ["type"] = "object",
                                ["required"] = new JsonArray("prompt"),
                                ["properties"] = new JsonObject
                                {
                                    ["prompt"] = new JsonObject { ["type"] = "string", ["title"] = "Prompt" },
                                    ["width"] = new JsonObject { ["type"] = "integer", ["default"] = 512, ["multipleOf"] = 8 },
                                },
                            },
                        },
                    },
                },
            },
        };

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
            var name = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
            switch (name)
            {
                case "CreatePrediction" or "CreateModelPrediction":
                    SetRequestExample(operation, RequestExample);
                    SetResponseExample(operation, "201", PredictionExample("starting"));
                    SetResponseExample(operation, "400", ValidationExample);
                    SetResponseExample(operation, "429", QueueFullExample);
                    AddHeader(operation, "Prefer", "`wait` or `wait=N` (seconds, at most 60): hold the response until the prediction finishes.");
                    AddHeader(operation, "X-Output-As-Data-Uri", "`true`: outputs as data URIs instead of file URLs.");
                    break;
                case "GetPrediction":
                    SetResponseExample(operation, "200", PredictionExample("succeeded"));
                    break;
                case "CancelPrediction":
                    SetResponseExample(operation, "200", PredictionExample("processing"));
                    break;
                case "GetWebhookSecret":
                    SetResponseExample(operation, "200", new JsonObject { ["key"] = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH" });
                    break;
                case "GetModel":
                    SetResponseExample(operation, "200", ModelExample);
                    break;
                case "GetModelVersion":
                    SetResponseExample(operation, "200", ModelExample["latest_version"]!.DeepClone());
                    break;
                case "ListModelVersions":
                    SetResponseExample(operation, "200", new JsonObject { ["next"] = null, ["previous"] = null, ["results"] = new JsonArray(ModelExample["latest_version"]!.DeepClone()) });
                    break;
                case "ListModels":
                    SetResponseExample(operation, "200", new JsonObject { ["next"] = null, ["previous"] = null, ["results"] = new JsonArray(ModelExample.DeepClone()) });
                    break;
                case "ListPredictions":
                    SetResponseExample(operation, "200", new JsonObject
                    {
                        ["next"] = "https://sd.example.com/v1/predictions?page_size=100&cursor=YjQy",
                        ["previous"] = null,
                        ["results"] = new JsonArray(PredictionExample("succeeded")),
                    });
                    break;
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
