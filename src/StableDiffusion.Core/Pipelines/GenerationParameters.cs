using System.Globalization;
using System.Text;

namespace StableDiffusion.Core.Pipelines;

/// <summary>The AUTOMATIC1111 <c>parameters</c> text written into every PNG (the format A1111's "PNG Info" reads back).</summary>
public static class GenerationParameters
{
    public static string Format(GenerationSettings settings, string scheduler, long seed, int width, int height, string modelName)
    {
        var text = new StringBuilder();
        text.Append(settings.Prompt);
        if (settings.NegativePrompt.Length > 0)
        {
            text.Append("\nNegative prompt: ").Append(settings.NegativePrompt);
        }

        text.Append(CultureInfo.InvariantCulture,
            $"\nSteps: {settings.Steps}, Sampler: {SamplerNames.ToA1111(scheduler)}, CFG scale: {settings.GuidanceScale:0.###}, Seed: {seed}, Size: {width}x{height}, Model: {modelName}");
        if (settings.SigmaSchedule is { Length: > 0 } schedule)
        {
            // A1111 1.9: "Sampler: DPM2, Schedule type: Karras".
            text.Append(", Schedule type: ").Append(char.ToUpperInvariant(schedule[0])).Append(schedule[1..]);
        }

        // A1111 writes "RNG: CPU" / "RNG: NV" when its noise source is not the default GPU one; we name ours.
        var rng = settings.Rng ?? Randomness.RandomSource.Default;
        text.Append(", RNG: ").Append(rng switch
        {
            Randomness.RandomSource.Cpu => "CPU",
            Randomness.RandomSource.Nv => "NV",
            _ => rng,
        });
        if (settings.Eta > 0 && scheduler == "DDIM")
        {
            text.Append(CultureInfo.InvariantCulture, $", Eta DDIM: {settings.Eta:0.###}");
        }

        if (settings.Task is GenerationTask.ImageToImage or GenerationTask.Inpaint or GenerationTask.DepthToImage)
        {
            text.Append(CultureInfo.InvariantCulture, $", Denoising strength: {settings.PromptStrength:0.###}");
        }

        if (settings.Task == GenerationTask.Upscale)
        {
            text.Append(CultureInfo.InvariantCulture, $", Noise level: {settings.NoiseLevel}");
        }

        return text.ToString();
    }
}
