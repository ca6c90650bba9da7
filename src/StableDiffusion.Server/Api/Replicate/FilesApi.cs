using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>Files (<c>/v1/files</c>): prediction outputs, which expire with their prediction, and uploads (Replicate's
/// files API), which expire after the results retention time; both share the store's byte cap.</summary>
internal static class FilesApi
{
    public static RouteGroupBuilder MapFiles(this RouteGroupBuilder v1)
    {
        v1.MapPost("/files", CreateFileAsync)
            .DisableAntiforgery()
            .WithName("CreateFile")
            .WithTags("Files")
            .WithSummary("Upload a file")
            .WithDescription("Replicate's files API: multipart/form-data with the file in a `content` part (and optional JSON `metadata`). Pass the returned `urls.get` (or the id) as an image input. Uploads expire after the results retention time.")
            .Accepts<IFormFile>("multipart/form-data")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        v1.MapGet("/files/{id}", GetFileAsync)
            .AllowAnonymous()
            .WithName("GetFile")
            .WithTags("Files")
            .WithSummary("Download an output or uploaded file")
            .WithDescription("The file id is unguessable and is the credential (the replicate client fetches outputs without a token).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: ["image/webp", "image/jpeg", "application/octet-stream"])
            .ProducesProblem(StatusCodes.Status404NotFound);

        v1.MapDelete("/files/{id}", DeleteFileAsync)
            .WithName("DeleteFile")
            .WithTags("Files")
            .WithSummary("Delete an uploaded file")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    public static async Task<Results<Created<JsonObject>, ValidationProblem, ProblemHttpResult>> CreateFileAsync(HttpContext context,
        [AsParameters] ReplicateServices services)
    {
        if (!context.Request.HasFormContentType)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["content"] = ["send multipart/form-data with the file in a 'content' part"] });
        }
        var (form, formError) = await FileUpload.ReadFormAsync(context.Request);
        if (form is null)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["body"] = [formError!] });
        }
        if (form.Files.GetFile("content") is not { } part)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["content"] = ["is required (a file part named 'content')"] });
        }
        if (part.Length > services.Limits.Value.MaxImageBytes)
        {
            return TooLargeProblem.For(new Dictionary<string, string[]>
            {
                ["content"] = [$"the file is {part.Length} bytes; the limit is {services.Limits.Value.MaxImageBytes} bytes."],
            });
        }
        var bytes = await ReadAllAsync(part, context.RequestAborted);
        // The replicate client sends metadata as a JSON blob part; curl users may send a plain field.
        string? metadata = form.TryGetValue("metadata", out var field) ? field.ToString() : null;
        if (form.Files.GetFile("metadata") is { } metadataPart && metadataPart.Length <= 64 * 1024)
        {
            metadata = System.Text.Encoding.UTF8.GetString(await ReadAllAsync(metadataPart, context.RequestAborted));
        }
        var file = await FileUpload.StoreAsync(services.Store, services.Time, bytes, part.FileName, part.ContentType, metadata);
        var body = FileUpload.Describe(context.Request, file, bytes, services.Results.Value);
        return TypedResults.Created(FileUpload.UrlOf(context.Request, file.Id), body);
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetFileAsync(string id, HttpContext context,
        [AsParameters] ReplicateServices services)
    {
        if (await services.Store.FindFileAsync(id) is not { } file || await services.Store.ReadFileAsync(file) is not { } bytes)
        {
            return Problems.NotFound($"No file '{id}' (it may have expired).");
        }
        // An output's link is signed and expires with the prediction (any replica with the same key accepts it);
        // an upload is referenced by its id, which is the credential (Replicate's files API).
        if (!file.IsUpload && !services.FileSigner.Verify(id, context.Request.Query["expires"], context.Request.Query["sig"], services.Time.GetUtcNow()))
        {
            return Problems.NotFound($"No file '{id}' at this link: it is not signed or it has expired.");
        }
        context.Response.Headers.CacheControl = "private, max-age=3600, immutable";
        return TypedResults.File(bytes, file.ContentType, file.FileName);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteFileAsync(string id, [AsParameters] ReplicateServices services)
        => await services.Store.DeleteUploadAsync(id) ? TypedResults.NoContent() : Problems.NotFound($"No uploaded file '{id}' (outputs go with their prediction).");

    internal static async Task<byte[]> ReadAllAsync(IFormFile part, CancellationToken cancellationToken)
    {
        var bytes = new byte[part.Length];
        await using var stream = part.OpenReadStream();
        await stream.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }
}
