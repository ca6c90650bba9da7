using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Pipelines;

/// <summary>Which generation tasks a model folder offers, decided by its UNet's input channels and components.</summary>
/// <remarks>
/// 4 channels: text-to-image, plus img2img and "legacy" inpainting (known latents blended back every step) when a
/// vae_encoder exists. 9 channels (inpainting UNet): inpainting only — diffusers' StableDiffusionInpaintPipeline needs
/// an image and a mask, and a 9-channel UNet cannot run the plain text-to-image or img2img pipelines. 5 channels: depth
/// to image. 7 channels with <c>class_labels</c>: the x4 upscaler.
/// </remarks>
public static class ModelTasks
{
    public static IReadOnlyList<GenerationTask> For(ModelFolder folder, int inChannels, bool hasClassLabels)
    {
        switch (inChannels)
        {
            case 4:
                return folder.HasVaeEncoder
                    ? [GenerationTask.TextToImage, GenerationTask.ImageToImage, GenerationTask.Inpaint]
                    : [GenerationTask.TextToImage];
            case 9:
                RequireEncoder(folder, "an inpainting UNet (9 input channels)");
                return [GenerationTask.Inpaint];
            case 5:
                RequireEncoder(folder, "a depth-to-image UNet (5 input channels)");
                return [GenerationTask.DepthToImage];
            case 7:
                if (!hasClassLabels)
                {
                    throw new ModelLoadException($"unet: a 7-channel UNet (x4 upscaler) must have a '{UNetModel.ClassLabelsInput}' input (the noise level).");
                }

                if (folder.LowResScheduler is null)
                {
                    throw new ModelLoadException($"Model folder '{folder.Directory}' is missing '{ModelFolder.LowResSchedulerFile}' (required by the x4 upscaler).");
                }

                return [GenerationTask.Upscale];
            default:
                throw new ModelLoadException(
                    $"unet: {inChannels} input channels is not a known model kind (4 text-to-image, 9 inpainting, 5 depth, 7 x4 upscaler).");
        }
    }

    /// <summary>The message of the <see cref="NotSupportedException"/> for a task the model cannot run.</summary>
    public static string Unsupported(ModelInfo info, GenerationTask task) =>
        $"Model '{info.Name}' ({info.PipelineClass}, {info.UnetInChannels}-channel UNet) cannot do {Describe(task)}; it supports {string.Join(", ", info.Tasks.Select(Describe))}.";

    public static string Describe(GenerationTask task) => task switch
    {
        GenerationTask.TextToImage => "text-to-image",
        GenerationTask.ImageToImage => "image-to-image",
        GenerationTask.Inpaint => "inpainting",
        GenerationTask.Upscale => "upscaling",
        _ => "depth-to-image",
    };

    private static void RequireEncoder(ModelFolder folder, string what)
    {
        if (!folder.HasVaeEncoder)
        {
            throw new ModelLoadException($"Model folder '{folder.Directory}' is missing 'vae_encoder/model.onnx' (required by {what}).");
        }
    }
}
