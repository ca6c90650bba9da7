using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Models;

using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>The served models, Replicate-style (<c>/v1/models</c>).</summary>
internal static class ModelsApi
{
    public static RouteGroupBuilder MapModels(this RouteGroupBuilder v1)
    {
        v1.MapGet("/models", ListModels).Describe("ListModels", "List the served models")
            .WithResponseExample(StatusCodes.Status200OK, ReplicateExamples.Page(ReplicateExamples.ModelExample.DeepClone()))
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        v1.MapGet("/models/{owner}/{name}", GetModel).Describe("GetModel", "Get a model with its input schema")
            .WithResponseExample(StatusCodes.Status200OK, ReplicateExamples.ModelExample)
            .WithDescription("`latest_version.openapi_schema.components.schemas.Input` is the JSON schema of the prediction input.")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        v1.MapGet("/models/{owner}/{name}/versions", ListModelVersions)
            .Describe("ListModelVersions", "List a model's versions (one: the served folder, its id is the model name)")
            .WithResponseExample(StatusCodes.Status200OK, ReplicateExamples.Page(ReplicateExamples.ModelExample["latest_version"]!.DeepClone()))
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        v1.MapGet("/models/{owner}/{name}/versions/{version}", GetModelVersion).Describe("GetModelVersion", "Get a model version with its input schema")
            .WithResponseExample(StatusCodes.Status200OK, ReplicateExamples.ModelExample["latest_version"]!.DeepClone())
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    public static Ok<ModelPage> ListModels(HttpContext context, [AsParameters] ReplicateServices services)
        => TypedResults.Ok(new ModelPage(null, null, services.Catalog.Models.Select(m => ToResponse(context, services, m)).ToArray()));

    public static Results<Ok<ModelResponse>, ProblemHttpResult> GetModel(string owner, string name, HttpContext context,
        [AsParameters] ReplicateServices services)
        => services.Catalog.Find($"{owner}/{name}") is { } model
            ? TypedResults.Ok(ToResponse(context, services, model))
            : Problems.NotFound($"No model '{owner}/{name}'.");

    public static Results<Ok<ModelVersionPage>, ProblemHttpResult> ListModelVersions(string owner, string name, HttpContext context,
        [AsParameters] ReplicateServices services)
        => services.Catalog.Find($"{owner}/{name}") is { } model
            ? TypedResults.Ok(new ModelVersionPage(null, null, [ToResponse(context, services, model).LatestVersion!]))
            : Problems.NotFound($"No model '{owner}/{name}'.");

    public static Results<Ok<ModelVersionResponse>, ProblemHttpResult> GetModelVersion(string owner, string name, string version,
        HttpContext context, [AsParameters] ReplicateServices services)
        => services.Catalog.Find($"{owner}/{name}:{version}") is { } model
            ? TypedResults.Ok(ToResponse(context, services, model).LatestVersion!)
            : Problems.NotFound($"No version '{version}' of model '{owner}/{name}'.");

    private static RouteHandlerBuilder Describe(this RouteHandlerBuilder route, string name, string summary)
        => route.WithName(name).WithTags("Models").WithSummary(summary);

    private static ModelResponse ToResponse(HttpContext context, ReplicateServices services, ServedModel model)
    {
        var info = services.Catalog.InfoOf(model);
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
            new ModelVersionResponse(model.Name, "1970-01-01T00:00:00.000000Z", null, ModelSchema.Build(info, services.Limits.Value)));
    }
}
