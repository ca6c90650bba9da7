using Microsoft.AspNetCore.Http.HttpResults;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Api;

/// <summary>Output files (<c>/v1/files/{id}</c>): they expire with their prediction.</summary>
public static class FilesApi
{
    public static RouteGroupBuilder MapFiles(this RouteGroupBuilder v1)
    {
        v1.MapGet("/files/{id}", Results<FileContentHttpResult, ProblemHttpResult> (string id, JobStore store, HttpContext context) =>
            {
                if (store.FindFile(id) is not { } file)
                {
                    return Problems.NotFound($"No file '{id}' (it may have expired).");
                }
                context.Response.Headers.CacheControl = "private, max-age=3600, immutable";
                return TypedResults.File(file.Bytes, file.ContentType, file.FileName);
            })
            .AllowAnonymous()
            .WithName("GetFile")
            .WithTags("Files")
            .WithSummary("Download an output file")
            .WithDescription("The file id is unguessable and is the credential (the replicate client fetches outputs without a token).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: ["image/webp", "image/jpeg"])
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }
}
