using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;
using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// The x4 upscaler models this server serves, as A1111 upscalers for the extras ("SD x4 (name)"): each image is a job on
/// that model through the one queue (empty prompt, the model's defaults), its 4× output resized to what the request
/// asks when that differs.
/// </summary>
internal static class Automatic1111ModelUpscale
{
    public static string Name(ServedModel model) => $"SD x4 ({model.Name})";

    /// <summary>The served models that upscale (known once their worker has loaded them).</summary>
    public static IEnumerable<ServedModel> Models(ModelCatalog catalog)
        => catalog.Models.Where(m => catalog.InfoOf(m)?.Tasks.Contains(GenerationTask.Upscale) == true);

    public static ServedModel? Find(ModelCatalog catalog, string upscaler)
        => Models(catalog).FirstOrDefault(m => Name(m).Equals(upscaler.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The model's PNG for one image; the failure (naming <paramref name="field"/>) when there is none.</summary>
    public static async Task<(byte[]? Png, IResult? Failure)> RunAsync(HttpContext context, Automatic1111Services s, ServedModel model,
        string image, string field)
    {
        var input = new GenerationInput { Prompt = "", Image = image };
        var validation = s.Validator.Validate(model.Name, input, "upscaler_1");
        if (!validation.IsValid)
        {
            return (null, Problems.Validation(validation.Errors.ToDictionary(e => e.Key == "image" ? field : e.Key, e => e.Value)));
        }
        var submission = new JobSubmission(validation.Request!, SynchronousGeneration.EchoInput(input)) { BaseUrl = PublicUrls.BaseUrl(context.Request) };
        var (job, outcome, rejection) = await SynchronousGeneration.RunAsync(s.Dispatcher, submission,
            TimeSpan.FromSeconds(s.QueueOptions.Value.JobDeadlineSeconds), context.RequestAborted);
        if (Automatic1111Api.Failure(context, s, job, outcome, rejection, $"Upscaling {field}") is { } failure)
        {
            return (null, failure);
        }
        if (job!.Status != JobStatus.Succeeded || job.Outputs.Count == 0 || await s.Store.ReadFileAsync(job.Outputs[0]) is not { } png)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Canceled", detail: $"Upscaling {field} was canceled."));
        }
        return (png, null);
    }
}
