using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>The served models, Replicate-style (<c>/v1/models</c>).</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModels(this RouteGroupBuilder v1)
    {
        v1.MapGet("/models", (HttpContext context, ModelCatalog catalog, IOptions<LimitsOptions> limits)
                => TypedResults.Ok(new ModelPage(null, null, catalog.Models.Select(m => ToResponse(context, catalog, m, limits.Value)).ToArray())))
            .WithName("ListModels")
            .WithTags("Models")
            .WithSummary("List the served models")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        v1.MapGet("/models/{owner}/{name}", Results<Ok<ModelResponse>, ProblemHttpResult> (string owner, string name, HttpContext context,
                ModelCatalog catalog, IOptions<LimitsOptions> limits)
                => catalog.Find($"{owner}/{name}") is { } model
                    ? TypedResults.Ok(ToResponse(context, catalog, model, limits.Value))
                    : Problems.NotFound($"No model '{owner}/{name}'."))
            .WithName("GetModel")
            .WithTags("Models")
            .WithSummary("Get a model with its input schema")
            .WithDescription("`latest_version.openapi_schema.components.schemas.Input` is the JSON schema of the prediction input.")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        v1.MapGet("/models/{owner}/{name}/versions", Results<Ok<ModelVersionPage>, ProblemHttpResult> (string owner, string name, HttpContext context,
                ModelCatalog catalog, IOptions<LimitsOptions> limits)
                => catalog.Find($"{owner}/{name}") is { } model
                    ? TypedResults.Ok(new ModelVersionPage(null, null, [ToResponse(context, catalog, model, limits.Value).LatestVersion!]))
                    : Problems.NotFound($"No model '{owner}/{name}'."))
            .WithName("ListModelVersions")
            .WithTags("Models")
            .WithSummary("List a model's versions (one: the served folder, its id is the model name)")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapGet("/models/{owner}/{name}/versions/{version}", Results<Ok<ModelVersionResponse>, ProblemHttpResult> (string owner, string name,
                string version, HttpContext context, ModelCatalog catalog, IOptions<LimitsOptions> limits)
                => catalog.Find($"{owner}/{name}:{version}") is { } model
                    ? TypedResults.Ok(ToResponse(context, catalog, model, limits.Value).LatestVersion!)
                    : Problems.NotFound($"No version '{version}' of model '{owner}/{name}'."))
            .WithName("GetModelVersion")
            .WithTags("Models")
            .WithSummary("Get a model version with its input schema")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    private static ModelResponse ToResponse(HttpContext context, ModelCatalog catalog, ServedModel model, LimitsOptions limits)
    {
        var info = catalog.InfoOf(model);
        var description = model.Description ?? (info is null ? null : $"{info.PipelineClass} ({info.NativeWidth}x{info.NativeHeight}, {info.DefaultScheduler})");
        return new ModelResponse(
            $"{PublicUrls.BaseUrl(context.Request)}/v1/models/{model.FullName}",
            model.Owner,
            model.Name,
            description,
            "public",
            null,
            null,
            null,
            0,
            null,
            null,
            new ModelVersionResponse(model.Name, "1970-01-01T00:00:00.000000Z", null, ModelSchema.Build(info, limits)));
    }
}
