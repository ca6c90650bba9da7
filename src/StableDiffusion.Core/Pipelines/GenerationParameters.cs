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

        // A1111 1.9: "Sampler: DPM2, Schedule type: Karras"; our "DPM++ 2M Karras" samplers are written that way too.
        var sampler = SamplerNames.ToA1111(scheduler);
        var schedule = settings.SigmaSchedule is { Length: > 0 } s ? Schedulers.ScheduleTypes.Label(Schedulers.ScheduleTypes.Find(s) ?? s) : null;
        if (sampler.EndsWith(" Karras", StringComparison.Ordinal))
        {
            sampler = sampler[..^" Karras".Length];
            schedule ??= "Karras";
        }

        if (settings.HiresFix is not null && settings.Width is { } firstWidth && settings.Height is { } firstHeight)
        {
            // A1111 writes the first pass's size; the hires fields say what it became.
            (width, height) = (firstWidth, firstHeight);
        }

        text.Append(CultureInfo.InvariantCulture,
            $"\nSteps: {settings.Steps}, Sampler: {sampler}, CFG scale: {settings.GuidanceScale:0.###}, Seed: {seed}, Size: {width}x{height}, Model: {modelName}");
        if (schedule is not null)
        {
            text.Append(", Schedule type: ").Append(schedule);
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

        if (settings.HiresFix is { } hires)
        {
            // A1111's extra_generation_params of the hires fix, in its order.
            text.Append(CultureInfo.InvariantCulture, $", Denoising strength: {hires.DenoisingStrength:0.###}");
            text.Append(hires.Scale is { } scale
                ? string.Create(CultureInfo.InvariantCulture, $", Hires upscale: {scale:0.###}")
                : string.Create(CultureInfo.InvariantCulture, $", Hires resize: {hires.Width}x{hires.Height}"));
            if (hires.Steps > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $", Hires steps: {hires.Steps}");
            }

            text.Append(", Hires upscaler: ").Append(hires.UpscalerName);
        }

        if (settings.Task == GenerationTask.Upscale)
        {
            text.Append(CultureInfo.InvariantCulture, $", Noise level: {settings.NoiseLevel}");
        }

        return text.ToString();
    }
}
