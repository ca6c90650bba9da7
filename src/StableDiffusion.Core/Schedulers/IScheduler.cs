namespace StableDiffusion.Core.Schedulers;

/// <summary>Fills a buffer with standard normal noise (the pipeline seeds it per image: image k of a batch uses seed+k).</summary>
public delegate void NoiseFill(Span<float> destination);

/// <summary>
/// A diffusion scheduler, as diffusers defines one. An instance holds the state of one denoising run
/// (multistep history), so each job creates its own through <see cref="SchedulerFactory"/>.
/// All spans cover the whole latent batch [N, C, h, w] in C order; the maths is element-wise.
/// </summary>
public interface IScheduler
{
    /// <summary>Canonical (Replicate-style) name, one of <see cref="SchedulerFactory.Names"/>.</summary>
    string Name { get; }

    SchedulerConfig Config { get; }

    /// <summary>diffusers' <c>order</c>: model calls per step where img2img enters the schedule (2 for Heun and KDPM2).</summary>
    int Order => 1;

    /// <summary>The timestep given to the UNet for each model call, in call order, after <see cref="SetTimesteps"/>
    /// (PNDM with skip_prk_steps makes N+1 calls for N steps). May be fractional (Euler-family "linspace" spacing).</summary>
    IReadOnlyList<double> Timesteps { get; }

    /// <summary>The sigma schedule of sigma-based schedulers (one per call plus the final 0); empty for the others.</summary>
    IReadOnlyList<double> Sigmas { get; }

    /// <summary>Standard deviation of the initial noise (diffusers' <c>init_noise_sigma</c>).</summary>
    double InitNoiseSigma { get; }

    /// <summary>Computes the schedule for <paramref name="numInferenceSteps"/> steps and resets the multistep state.</summary>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>diffusers' <c>scale_model_input</c> for model call <paramref name="stepIndex"/> (identity for PNDM/DDIM).</summary>
    void ScaleModelInput(ReadOnlySpan<float> sample, Span<float> destination, int stepIndex);

    /// <summary>diffusers' <c>step</c> for model call <paramref name="stepIndex"/>: updates <paramref name="sample"/> in place
    /// from the (guided) model output. <paramref name="noise"/> is used by stochastic schedulers (Euler ancestral, DDIM eta &gt; 0).</summary>
    void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, NoiseFill? noise);

    /// <summary>diffusers' <c>add_noise</c> at the timestep (or sigma) of model call <paramref name="stepIndex"/> (img2img).</summary>
    void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, int stepIndex, Span<float> destination);
}
