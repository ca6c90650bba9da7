using System.Text.Json;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Core.Schedulers;

/// <summary>The fields of diffusers' <c>scheduler/scheduler_config.json</c> that the schedulers read.</summary>
/// <remarks>
/// Defaults are diffusers' defaults for a key that is absent from the file (the SD 2.1-base file, for example,
/// has no <c>timestep_spacing</c>, which means "leading"). For <c>timestep_spacing</c>, <c>clip_sample</c> and
/// <c>set_alpha_to_one</c> that default is the one of the class the file names (<see cref="Parse"/>).
/// </remarks>
public sealed record SchedulerConfig
{
    public string ClassName { get; init; } = "PNDMScheduler";
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.00085;
    public double BetaEnd { get; init; } = 0.012;
    /// <summary><c>scaled_linear</c> or <c>linear</c>.</summary>
    public string BetaSchedule { get; init; } = "scaled_linear";
    /// <summary><c>epsilon</c> or <c>v_prediction</c>.</summary>
    public string PredictionType { get; init; } = "epsilon";
    public int StepsOffset { get; init; }
    public bool SetAlphaToOne { get; init; }
    public bool SkipPrkSteps { get; init; } = true;
    public bool ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
    /// <summary><c>leading</c>, <c>linspace</c> or <c>trailing</c>.</summary>
    public string TimestepSpacing { get; init; } = "leading";
    public bool UseKarrasSigmas { get; init; }
    /// <summary><c>use_exponential_sigmas</c>: σ evenly spaced in log between the schedule's ends (Euler, LMS, Heun, DPM2, UniPC, DPM-Solver).</summary>
    public bool UseExponentialSigmas { get; init; }
    /// <summary>An A1111 schedule type computed by <see cref="ScheduleTypes"/> (uniform, sgm_uniform, kl_optimal, …) in place
    /// of the scheduler's own σ ramp; null = the config's (and its Karras/exponential flags). Not a diffusers key.</summary>
    public string? ScheduleType { get; init; }
    /// <summary><c>use_beta_sigmas</c> (needs scipy's beta quantile in diffusers): read so it can be refused by name.</summary>
    public bool UseBetaSigmas { get; init; }

    // DPMSolverMultistepScheduler settings (diffusers' defaults: DPM-Solver++(2M), midpoint, lower order at the end).
    public int SolverOrder { get; init; } = 2;
    public string AlgorithmType { get; init; } = "dpmsolver++";
    public string SolverType { get; init; } = "midpoint";
    public bool LowerOrderFinal { get; init; } = true;
    /// <summary>UniPC's <c>solver_type</c> (<c>bh1</c> or <c>bh2</c>; a different key from DPM-Solver's midpoint/heun in
    /// diffusers' classes, both named solver_type: read from the file only when the file's class is UniPC).</summary>
    public string UniPcSolverType { get; init; } = "bh2";
    /// <summary>LCM's <c>original_inference_steps</c> (the distillation schedule's length).</summary>
    public int OriginalInferenceSteps { get; init; } = 50;
    /// <summary>LCM's <c>timestep_scaling</c> for the boundary-condition scalings.</summary>
    public double TimestepScaling { get; init; } = 10.0;
    /// <summary>UniPC's <c>predict_x0</c>.</summary>
    public bool PredictX0 { get; init; } = true;
    public bool EulerAtFinal { get; init; }
    /// <summary><c>zero</c> or <c>sigma_min</c>.</summary>
    public string FinalSigmasType { get; init; } = "zero";
    /// <summary>DPM-Solver's <c>lambda_min_clipped</c>: timesteps whose λ = log(α/σ) is below it are cut from the schedule;
    /// −∞ (diffusers' default, written <c>-Infinity</c> in its JSON) means no clipping.</summary>
    public double LambdaMinClipped { get; init; } = double.NegativeInfinity;

    /// <summary>The scheduler config of stabilityai/stable-diffusion-2-1-base (the reference config of the tests).</summary>
    public static SchedulerConfig StableDiffusion21Base { get; } = new()
    {
        ClassName = "PNDMScheduler",
        NumTrainTimesteps = 1000,
        BetaStart = 0.00085,
        BetaEnd = 0.012,
        BetaSchedule = "scaled_linear",
        PredictionType = "epsilon",
        StepsOffset = 1,
        SetAlphaToOne = false,
        SkipPrkSteps = true,
        ClipSample = false,
    };

    public bool IsVPrediction => PredictionType == "v_prediction";

    public static SchedulerConfig Load(string path) => Parse(File.ReadAllText(path));

    public static SchedulerConfig Parse(string json)
    {
        using var doc = PythonJson.Parse(json);
        var root = doc.RootElement;
        var config = new SchedulerConfig();
        var className = String(root, "_class_name") ?? config.ClassName;

        // An absent key takes the default of the class the file names (diffusers instantiates that class, and its
        // config then carries the value into from_config for any other scheduler): DDIM clips and sets alpha to one,
        // PNDM/DDIM space "leading", the sigma schedulers "linspace".
        var isDdim = className == "DDIMScheduler";
        return config with
        {
            ClassName = className,
            NumTrainTimesteps = Int(root, "num_train_timesteps") ?? config.NumTrainTimesteps,
            BetaStart = Double(root, "beta_start") ?? config.BetaStart,
            BetaEnd = Double(root, "beta_end") ?? config.BetaEnd,
            BetaSchedule = String(root, "beta_schedule") ?? config.BetaSchedule,
            PredictionType = String(root, "prediction_type") ?? config.PredictionType,
            StepsOffset = Int(root, "steps_offset") ?? config.StepsOffset,
            SetAlphaToOne = Bool(root, "set_alpha_to_one") ?? isDdim,
            SkipPrkSteps = Bool(root, "skip_prk_steps") ?? config.SkipPrkSteps,
            ClipSample = Bool(root, "clip_sample") ?? isDdim,
            ClipSampleRange = Double(root, "clip_sample_range") ?? config.ClipSampleRange,
            TimestepSpacing = String(root, "timestep_spacing") ?? DefaultTimestepSpacing(className),
            UseKarrasSigmas = Bool(root, "use_karras_sigmas") ?? config.UseKarrasSigmas,
            UseExponentialSigmas = Bool(root, "use_exponential_sigmas") ?? config.UseExponentialSigmas,
            UseBetaSigmas = Bool(root, "use_beta_sigmas") ?? config.UseBetaSigmas,
            SolverOrder = Int(root, "solver_order") ?? config.SolverOrder,
            AlgorithmType = String(root, "algorithm_type") ?? config.AlgorithmType,
            SolverType = className == "UniPCMultistepScheduler" ? config.SolverType : String(root, "solver_type") ?? config.SolverType,
            LowerOrderFinal = Bool(root, "lower_order_final") ?? config.LowerOrderFinal,
            UniPcSolverType = className == "UniPCMultistepScheduler" ? String(root, "solver_type") ?? config.UniPcSolverType : config.UniPcSolverType,
            PredictX0 = Bool(root, "predict_x0") ?? config.PredictX0,
            OriginalInferenceSteps = Int(root, "original_inference_steps") ?? config.OriginalInferenceSteps,
            TimestepScaling = Double(root, "timestep_scaling") ?? config.TimestepScaling,
            EulerAtFinal = Bool(root, "euler_at_final") ?? config.EulerAtFinal,
            FinalSigmasType = String(root, "final_sigmas_type") ?? config.FinalSigmasType,
            LambdaMinClipped = Double(root, "lambda_min_clipped") ?? config.LambdaMinClipped,
        };
    }

    /// <summary>Throws <see cref="NotSupportedException"/> naming the field when a value is outside what the schedulers implement.</summary>
    internal void Validate()
    {
        if (BetaSchedule is not ("scaled_linear" or "linear"))
        {
            throw new NotSupportedException($"beta_schedule '{BetaSchedule}' is not supported; use 'scaled_linear' or 'linear'.");
        }

        if (PredictionType is not ("epsilon" or "v_prediction"))
        {
            throw new NotSupportedException($"prediction_type '{PredictionType}' is not supported; use 'epsilon' or 'v_prediction'.");
        }

        if (TimestepSpacing is not ("leading" or "linspace" or "trailing"))
        {
            throw new NotSupportedException($"timestep_spacing '{TimestepSpacing}' is not supported; use 'leading', 'linspace' or 'trailing'.");
        }

        if (UseBetaSigmas)
        {
            throw new NotSupportedException("use_beta_sigmas is not supported (diffusers computes it with scipy's beta quantile); use use_karras_sigmas or use_exponential_sigmas.");
        }

        if ((UseKarrasSigmas ? 1 : 0) + (UseExponentialSigmas ? 1 : 0) > 1)
        {
            throw new NotSupportedException("Only one of use_karras_sigmas and use_exponential_sigmas can be set (as in diffusers).");
        }

        if (ScheduleType is not null && !ScheduleTypes.IsRamp(ScheduleType))
        {
            throw new NotSupportedException($"schedule type '{ScheduleType}' is not one of {string.Join(", ", ScheduleTypes.All.Skip(1).Select(a => a.Name))}.");
        }

        if (NumTrainTimesteps < 2)
        {
            throw new NotSupportedException($"num_train_timesteps {NumTrainTimesteps} is too small.");
        }
    }

    private static string DefaultTimestepSpacing(string className) =>
        className is "EulerDiscreteScheduler" or "EulerAncestralDiscreteScheduler" or "DPMSolverMultistepScheduler" or "LMSDiscreteScheduler"
            or "HeunDiscreteScheduler" or "KDPM2DiscreteScheduler" or "KDPM2AncestralDiscreteScheduler" or "UniPCMultistepScheduler"
            or "DEISMultistepScheduler" or "DPMSolverSinglestepScheduler"
            ? "linspace"
            : "leading";

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    private static double? Double(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && PythonJson.TryGetDouble(v, out var value) ? value : null;

    private static bool? Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
}
