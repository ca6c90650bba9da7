using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace StableDiffusion.Core.Models;

/// <summary>Builds ONNX Runtime session options for the configured execution provider.</summary>
internal static class ExecutionProviderSelector
{
    /// <summary>
    /// Returns session options and the provider actually used. <c>auto</c> tries CUDA and falls back to the CPU
    /// provider with one log line; <c>cuda</c> fails loudly when CUDA cannot be initialised.
    /// </summary>
    public static (SessionOptions Options, string Provider) Create(ModelLoadOptions load, ILogger logger) =>
        Create(load, logger, cudaGraph: false);

    /// <summary>As <see cref="Create(ModelLoadOptions, ILogger)"/>; <paramref name="cudaGraph"/> asks the CUDA provider
    /// to capture and replay CUDA graphs (the UNet's session only).</summary>
    public static (SessionOptions Options, string Provider) Create(ModelLoadOptions load, ILogger logger, bool cudaGraph)
    {
        string wanted = load.ExecutionProvider.Trim().ToLowerInvariant();
        if (wanted is not ("auto" or "cuda" or "tensorrt" or "cpu"))
        {
            throw new ArgumentException($"ExecutionProvider must be auto, cuda, tensorrt or cpu, not '{load.ExecutionProvider}'.");
        }

        if (wanted == "auto" && !CudaDevicePresent())
        {
            logger.LogWarning("No CUDA device found; running on the CPU execution provider");
            return (NewOptions(load), "cpu");
        }

        if (wanted != "cpu")
        {
            var options = NewOptions(load);
            try
            {
                // The GPU build of ONNX Runtime lists CUDA even where libcudart/cuDNN are missing; appending the
                // provider is what actually loads them, so that is the test.
                if (wanted == "tensorrt")
                {
                    using var trt = new OrtTensorRTProviderOptions();
                    trt.UpdateOptions(load.Cuda.TensorRtProviderOptions(load.DeviceId));
                    options.AppendExecutionProvider_Tensorrt(trt);
                }

                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(load.Cuda.ProviderOptions(load.DeviceId, cudaGraph));
                options.AppendExecutionProvider_CUDA(cuda);
                return (options, wanted == "tensorrt" ? "tensorrt" : "cuda");
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                options.Dispose();
                if (wanted == "tensorrt")
                {
                    throw new InvalidOperationException(
                        $"The TensorRT execution provider could not be initialised on device {load.DeviceId} (it needs TensorRT 10's libnvinfer.so.10 and libnvonnxparser.so.10 for CUDA 13 on the library path, besides CUDA and cuDNN): {ex.Message}", ex);
                }

                if (wanted == "cuda")
                {
                    throw new InvalidOperationException($"The CUDA execution provider could not be initialised on device {load.DeviceId}: {ex.Message}", ex);
                }

                logger.LogWarning("CUDA is not available ({Reason}); running on the CPU execution provider", FirstLine(ex.Message));
            }
        }

        return (NewOptions(load), "cpu");
    }

    /// <summary>On Linux the NVIDIA driver exposes /dev/nvidiactl; without it the CUDA provider cannot start, and asking
    /// ONNX Runtime anyway only prints a loud native error before the same fallback.</summary>
    private static bool CudaDevicePresent() => !OperatingSystem.IsLinux() || File.Exists("/dev/nvidiactl") || File.Exists("/dev/nvidia0");

    private static SessionOptions NewOptions(ModelLoadOptions load)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (load.IntraOpThreads > 0)
        {
            options.IntraOpNumThreads = load.IntraOpThreads;
        }

        return options;
    }

    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n');
        return newline < 0 ? message : message[..newline].TrimEnd();
    }
}
