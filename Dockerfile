# syntax=docker/dockerfile:1.7
#
# StableDiffusion.Server image. See deploy/README.md.
#
#   GPU (default):  docker build -t stable-diffusion-server:local .
#   CPU only:       docker build --build-arg VARIANT=cpu -t stable-diffusion-server:cpu .
#
# VARIANT=cuda  runs on nvidia/cuda (CUDA 13 + cuDNN 9) with the ASP.NET Core runtime copied in; needs the NVIDIA
#               container toolkit on the host and a driver >= 580.
# VARIANT=cpu   runs on mcr.microsoft.com/dotnet/aspnet, without the CUDA provider library (about 280 MB smaller);
#               Models__ExecutionProvider defaults to cpu.
#
# Why CUDA 13 and not 12: the Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0 NuGet package (Directory.Packages.props)
# ships libonnxruntime_providers_cuda.so linked against libcudart.so.13 / libcublas.so.13 / libcublasLt.so.13
# (`readelf -d` on the package's runtimes/linux-x64/native), and loads cuDNN 9 at run time. A CUDA 12 base image
# would make the CUDA provider fail to load and the server silently fall back to the CPU.
#
# The three versions below are the ones to bump together on upgrade (deploy/README.md, "Upgrade"):
# the SDK matches global.json, the ASP.NET runtime is the one that SDK ships.
ARG DOTNET_SDK_VERSION=10.0.401
ARG ASPNET_VERSION=10.0.12
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04
ARG VARIANT=cuda

# ---------------------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_SDK_VERSION}-noble AS build
ARG VARIANT
WORKDIR /src
COPY . .
# Server and CLI are published into one folder: they share Core, Synthetic and the ONNX Runtime native libraries
# (same centrally pinned versions), so the 280 MB CUDA provider exists once. The CLI gives `sd make-model` (demo
# model) and `sd watermark decode` inside the container.
RUN --mount=type=cache,id=sd-nuget,target=/root/.nuget/packages \
    dotnet publish src/StableDiffusion.Server/StableDiffusion.Server.csproj \
        -c Release -r linux-x64 --self-contained false -p:UseAppHost=false -o /app \
 && dotnet publish src/StableDiffusion.Cli/StableDiffusion.Cli.csproj \
        -c Release -r linux-x64 --self-contained false -p:UseAppHost=false -o /app
RUN if [ "$VARIANT" = "cpu" ]; then \
        rm -f /app/libonnxruntime_providers_cuda.so /app/libonnxruntime_providers_tensorrt.so; \
    fi \
 && test -f /app/StableDiffusion.Server.dll && test -f /app/appsettings.json

# ---------------------------------------------------------------------------------------------------------------
# Only a source of the ASP.NET Core runtime files for the CUDA variant (it is itself Ubuntu 24.04, like the CUDA
# image, so the runtime's native dependencies match).
FROM mcr.microsoft.com/dotnet/aspnet:${ASPNET_VERSION}-noble AS aspnet

# ---------------------------------------------------------------------------------------------------------------
FROM ${CUDA_IMAGE} AS runtime-cuda
# No libicu: every project sets InvariantGlobalization (Directory.Build.props). Add libicu74 if that ever changes.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl libssl3t64 tzdata \
 && rm -rf /var/lib/apt/lists/*
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_RUNNING_IN_CONTAINER=true \
    Models__ExecutionProvider=auto

# ---------------------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:${ASPNET_VERSION}-noble AS runtime-cpu
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
ENV Models__ExecutionProvider=cpu

# ---------------------------------------------------------------------------------------------------------------
FROM runtime-${VARIANT} AS final
ARG VARIANT
# A fixed numeric uid/gid (10001, also in docker-compose.yml and deploy/k8s) so Kubernetes' runAsNonRoot can verify
# it and volume permissions are predictable.
RUN groupadd --system --gid 10001 sd \
 && useradd --system --uid 10001 --gid sd --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin sd \
 && mkdir -p /models /cache /var/lib/stablediffusion-server \
 && chown sd:sd /cache /var/lib/stablediffusion-server \
 && chmod 0750 /var/lib/stablediffusion-server
WORKDIR /app
# Owned by root: the service user can read the application but not change it.
COPY --from=build /app/ /app/
RUN printf '#!/bin/sh\nexec dotnet /app/sd.dll "$@"\n' > /usr/local/bin/sd && chmod 0755 /usr/local/bin/sd

# Models are mounted read-only at /models (one folder per model, see Models__Items__N__Path); /cache, /tmp and the
# data directory are the only places the server writes (emptyDir / tmpfs / a volume when the root filesystem is
# read-only).
#
# Storage__DataDirectory: the embedded backend's SQLite database (predictions, queued jobs) and the output files
# (DESIGN §9). It is a VOLUME, created and owned by the service user above, so that a plain `docker run` keeps
# predictions and files across container restarts and re-creations stay possible with `--volumes-from` or a named
# volume (`-v sd-data:/var/lib/stablediffusion-server`: Docker copies the owner into a new named volume).
#
# Listening: appsettings.json sets "Urls": "http://localhost:5000", which Kestrel prefers over
# ASPNETCORE_HTTP_PORTS, and the server inserts appsettings.json as its first configuration source, which (as
# measured) also wins over ASPNETCORE_URLS. Only the unprefixed `Urls` variable overrides it: all interfaces, port
# 5000. ASPNETCORE_HTTP_PORTS (8080 in the aspnet base image) is emptied so nothing suggests another port.
# Models__DemoModelPath: with no Models__Items__* the server generates its demo model (random weights) on first
# start; the default path is under $HOME, which does not exist here, so it goes to the writable /cache.
ENV Urls=http://+:5000 \
    ASPNETCORE_HTTP_PORTS= \
    Models__DemoModelPath=/cache/demo-random-weights \
    Storage__DataDirectory=/var/lib/stablediffusion-server \
    TMPDIR=/tmp \
    SD_IMAGE_VARIANT=${VARIANT}
VOLUME ["/var/lib/stablediffusion-server"]
EXPOSE 5000
USER 10001:10001

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:5000/health/live || exit 1

ENTRYPOINT ["dotnet", "/app/StableDiffusion.Server.dll"]
