using System.Text.Json.Nodes;
using StableDiffusion.Synthetic.Networks;

namespace StableDiffusion.Synthetic;

/// <summary>The JSON files of a model folder, with the keys diffusers and transformers write (sorted, as their save_config does).</summary>
internal static class ModelFolderConfigs
{
    /// <summary>The diffusers version our configs imitate (keys as of diffusers 0.30).</summary>
    private const string DiffusersVersion = "0.30.0";

    public static void WriteAll(string directory, SyntheticPreset preset, int vocabSize, SyntheticModelOptions options)
    {
        JsonFiles.Write(Path.Combine(directory, "model_index.json"), ModelIndex(preset, options));
        JsonFiles.Write(Path.Combine(directory, "scheduler", "scheduler_config.json"), Scheduler(preset.Scheduler));
        if (preset.LowResScheduler is not null)
        {
            JsonFiles.Write(Path.Combine(directory, "low_res_scheduler", "scheduler_config.json"), Scheduler(preset.LowResScheduler));
        }
        if (preset.DepthEstimator)
        {
            JsonFiles.Write(Path.Combine(directory, "feature_extractor", "preprocessor_config.json"), DptPreprocessor());
        }
        if (options.SafetyChecker)
        {
            JsonFiles.Write(Path.Combine(directory, "feature_extractor", "preprocessor_config.json"), ClipPreprocessor());
        }
        JsonFiles.Write(Path.Combine(directory, "text_encoder", "config.json"), TextEncoder(preset, vocabSize));
        JsonFiles.Write(Path.Combine(directory, "unet", "config.json"), UNet(preset));
        JsonFiles.Write(Path.Combine(directory, "vae_decoder", "config.json"), Vae(preset));
        JsonFiles.Write(Path.Combine(directory, "vae_encoder", "config.json"), Vae(preset));
        JsonFiles.Write(Path.Combine(directory, "synthetic.json"), new JsonObject
        {
            ["generator"] = "StableDiffusion.Synthetic",
            ["preset"] = preset.Name,
            ["seed"] = options.Seed,
            ["fp16"] = options.Fp16,
            ["safety_checker"] = options.SafetyChecker
                ? $"flags an image only when the mean of its clip_input exceeds {SafetyCheckerGraph.Threshold} (near-white)"
                : null,
            ["external_data"] = preset.ExternalData || options.ExternalData,
            ["note"] = "Random weights: images generated with this model are noise.",
        });
    }

    private static JsonObject ModelIndex(SyntheticPreset preset, SyntheticModelOptions options)
    {
        var index = new JsonObject
        {
            ["_class_name"] = preset.PipelineClass,
            ["_diffusers_version"] = DiffusersVersion,
        };
        if (preset.DepthEstimator)
        {
            index["depth_estimator"] = JsonFiles.Array("transformers", "DPTForDepthEstimation");
            index["feature_extractor"] = JsonFiles.Array("transformers", "DPTImageProcessor");
        }
        else
        {
            index["feature_extractor"] = options.SafetyChecker ? JsonFiles.Array("transformers", "CLIPImageProcessor") : JsonFiles.Array(null, null);
        }
        if (preset.LowResScheduler is not null)
        {
            index["low_res_scheduler"] = JsonFiles.Array("diffusers", preset.LowResScheduler.ClassName);
        }
        if (preset.MaxNoiseLevel is int maxNoiseLevel)
        {
            index["max_noise_level"] = maxNoiseLevel;
        }
        if (!preset.DepthEstimator)
        {
            index["requires_safety_checker"] = options.SafetyChecker;
            index["safety_checker"] = options.SafetyChecker
                ? JsonFiles.Array("stable_diffusion", "StableDiffusionSafetyChecker")
                : JsonFiles.Array(null, null);
        }
        index["scheduler"] = JsonFiles.Array("diffusers", preset.Scheduler.ClassName);
        index["text_encoder"] = JsonFiles.Array("transformers", "CLIPTextModel");
        index["tokenizer"] = JsonFiles.Array("transformers", "CLIPTokenizer");
        index["unet"] = JsonFiles.Array("diffusers", "UNet2DConditionModel");
        index["vae"] = JsonFiles.Array("diffusers", "AutoencoderKL");
        return index;
    }

    /// <summary>CLIPImageProcessor as SD's feature_extractor/preprocessor_config.json has it (224 crop, OpenAI CLIP mean/std).</summary>
    private static JsonObject ClipPreprocessor() => new()
    {
        ["crop_size"] = new JsonObject { ["height"] = SafetyCheckerGraph.ClipSize, ["width"] = SafetyCheckerGraph.ClipSize },
        ["do_center_crop"] = true,
        ["do_convert_rgb"] = true,
        ["do_normalize"] = true,
        ["do_rescale"] = true,
        ["do_resize"] = true,
        ["image_mean"] = new JsonArray(0.48145466, 0.4578275, 0.40821073),
        ["image_processor_type"] = "CLIPImageProcessor",
        ["image_std"] = new JsonArray(0.26862954, 0.26130258, 0.27577711),
        ["resample"] = 3,
        ["rescale_factor"] = 1.0 / 255,
        ["size"] = new JsonObject { ["shortest_edge"] = SafetyCheckerGraph.ClipSize },
    };

    /// <summary>DPTImageProcessor as SD 2-depth ships it: 384×384 bicubic resize without keeping the aspect ratio, mean/std 0.5.</summary>
    private static JsonObject DptPreprocessor() => new()
    {
        ["do_normalize"] = true,
        ["do_rescale"] = true,
        ["do_resize"] = true,
        ["ensure_multiple_of"] = 1,
        ["image_mean"] = new JsonArray(0.5, 0.5, 0.5),
        ["image_processor_type"] = "DPTImageProcessor",
        ["image_std"] = new JsonArray(0.5, 0.5, 0.5),
        ["keep_aspect_ratio"] = false,
        ["resample"] = 3,
        ["rescale_factor"] = 1.0 / 255,
        ["size"] = new JsonObject { ["height"] = DepthEstimatorGraph.InputSize, ["width"] = DepthEstimatorGraph.InputSize },
    };

    /// <summary>SD's training schedule (scaled_linear 0.00085 → 0.012 over 1000 steps), as stabilityai's scheduler_config.json files carry it.</summary>
    public static JsonObject Scheduler(SchedulerSpec scheduler)
    {
        var config = new JsonObject
        {
            ["_class_name"] = scheduler.ClassName,
            ["_diffusers_version"] = DiffusersVersion,
            ["beta_end"] = scheduler.BetaEnd,
            ["beta_schedule"] = "scaled_linear",
            ["beta_start"] = scheduler.BetaStart,
            ["clip_sample"] = false,
        };
        if (scheduler.ClassName == "EulerDiscreteScheduler")
        {
            config["interpolation_type"] = "linear";
        }
        config["num_train_timesteps"] = 1000;
        config["prediction_type"] = scheduler.PredictionType;
        if (scheduler.ClassName == "DDPMScheduler")
        {
            // The x4 upscaler's low_res_scheduler: only adds noise, never steps.
            config["trained_betas"] = null;
            config["variance_type"] = "fixed_small";
            return config;
        }
        config["set_alpha_to_one"] = false;
        config["skip_prk_steps"] = true;
        config["steps_offset"] = 1;
        config["timestep_spacing"] = "leading";
        config["trained_betas"] = null;
        if (scheduler.ClassName == "EulerDiscreteScheduler")
        {
            config["use_karras_sigmas"] = false;
        }
        return config;
    }

    private static JsonObject TextEncoder(SyntheticPreset preset, int vocabSize)
    {
        TextEncoderSpec text = preset.TextEncoder;
        return new JsonObject
        {
            ["architectures"] = JsonFiles.Array("CLIPTextModel"),
            ["bos_token_id"] = vocabSize - 2,
            ["eos_token_id"] = vocabSize - 1,
            ["hidden_act"] = text.QuickGelu ? "quick_gelu" : "gelu",
            ["hidden_size"] = text.Hidden,
            ["intermediate_size"] = text.Intermediate,
            ["layer_norm_eps"] = 1e-5,
            ["max_position_embeddings"] = TextEncoderGraph.SequenceLength,
            ["model_type"] = "clip_text_model",
            ["num_attention_heads"] = text.Heads,
            ["num_hidden_layers"] = text.Layers,
            ["pad_token_id"] = preset.Tokenizer.PadWithEos ? vocabSize - 1 : 0,
            ["vocab_size"] = vocabSize,
        };
    }

    private static JsonObject UNet(SyntheticPreset preset)
    {
        UNetSpec unet = preset.UNet;
        int blocks = unet.BlockOutChannels.Length;
        var down = new string[blocks];
        var up = new string[blocks];
        for (int i = 0; i < blocks; i++)
        {
            down[i] = unet.DownAttention[i] ? "CrossAttnDownBlock2D" : "DownBlock2D";
            up[blocks - 1 - i] = unet.DownAttention[i] ? "CrossAttnUpBlock2D" : "UpBlock2D";
        }
        var config = new JsonObject
        {
            ["_class_name"] = "UNet2DConditionModel",
            ["_diffusers_version"] = DiffusersVersion,
            ["act_fn"] = "silu",
            ["attention_head_dim"] = JsonFiles.Array(unet.AttentionHeads),
            ["block_out_channels"] = JsonFiles.Array(unet.BlockOutChannels),
            ["center_input_sample"] = false,
            ["cross_attention_dim"] = unet.CrossAttentionDim,
            ["down_block_types"] = JsonFiles.Array(down),
            ["flip_sin_to_cos"] = true,
            ["freq_shift"] = 0,
            ["in_channels"] = unet.InChannels,
            ["layers_per_block"] = unet.LayersPerBlock,
            ["mid_block_type"] = "UNetMidBlock2DCrossAttn",
            ["norm_eps"] = 1e-5,
            ["norm_num_groups"] = unet.NormGroups,
            ["num_class_embeds"] = unet.ClassLabels ? 1000 : null,
            ["out_channels"] = UNetSpec.OutChannels,
            ["sample_size"] = preset.NativeSize / preset.Vae.LatentFactor,
            ["up_block_types"] = JsonFiles.Array(up),
            ["use_linear_projection"] = unet.LinearProjection,
        };
        return config;
    }

    private static JsonObject Vae(SyntheticPreset preset)
    {
        VaeSpec vae = preset.Vae;
        int blocks = vae.BlockOutChannels.Length;
        return new JsonObject
        {
            ["_class_name"] = "AutoencoderKL",
            ["_diffusers_version"] = DiffusersVersion,
            ["act_fn"] = "silu",
            ["block_out_channels"] = JsonFiles.Array(vae.BlockOutChannels),
            ["down_block_types"] = JsonFiles.Array([.. Enumerable.Repeat("DownEncoderBlock2D", blocks)]),
            ["in_channels"] = 3,
            ["latent_channels"] = VaeSpec.LatentChannels,
            ["layers_per_block"] = vae.ResnetsPerDownBlock,
            ["norm_num_groups"] = vae.NormGroups,
            ["out_channels"] = 3,
            ["sample_size"] = preset.NativeSize,
            ["scaling_factor"] = (double)(decimal)vae.ScalingFactor,
            ["up_block_types"] = JsonFiles.Array([.. Enumerable.Repeat("UpDecoderBlock2D", blocks)]),
        };
    }
}
