#!/usr/bin/env bash
# Proves that check.sh can fail: runs it on the committed files (must pass) and on copies with one deliberate
# defect each (must fail, on the rule that guards that defect).
#
# apt packages needed: the same as check.sh (nodejs npm nginx prometheus python3; docker-compose optional)
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sd-deploy-selftest.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
result() { if [ "$1" = ok ]; then passed=$((passed + 1)); echo "PASS $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi; }

copy_tree() {
    rm -rf "$WORK/tree" && mkdir -p "$WORK/tree/tests/e2e"
    cp -r "$ROOT/Dockerfile" "$ROOT/.dockerignore" "$ROOT/docker-compose.yml" "$ROOT/deploy" "$ROOT/appsettings.json" "$WORK/tree/"
    # check.mjs reads the server's options classes and instruments (configuration keys, metric names).
    mkdir -p "$WORK/tree/src/StableDiffusion.Server"
    cp -r "$ROOT/src/StableDiffusion.Server/Configuration" "$ROOT/src/StableDiffusion.Server/Telemetry" "$WORK/tree/src/StableDiffusion.Server/"
    cp -r "$ROOT/tests/e2e/nginx" "$WORK/tree/tests/e2e/"
    mkdir -p "$WORK/tree/tests/e2e/deploy"
    cp "$ROOT"/tests/e2e/deploy/*.sh "$ROOT"/tests/e2e/deploy/*.mjs "$WORK/tree/tests/e2e/deploy/"
}

if "$HERE/check.sh" > "$WORK/good.log" 2>&1; then
    result ok "committed files pass check.sh"
else
    grep -E '^(FAIL|    )' "$WORK/good.log"; result bad "committed files pass check.sh"
fi

# file | sed expression | text of the FAIL line that must appear
mutations=(
    'Dockerfile|s/^USER 10001:10001$/USER root/|USER root is root'
    'Dockerfile|s/^ARG CUDA_IMAGE=.*/ARG CUDA_IMAGE=nvidia\/cuda:latest/|is not pinned'
    'Dockerfile|/^HEALTHCHECK/,/health\/live/d|no HEALTHCHECK on /health/live'
    'Dockerfile|s/^FROM mcr.microsoft.com\/dotnet\/aspnet:\${ASPNET_VERSION}-noble AS runtime-cpu/FROM mcr.microsoft.com\/dotnet\/sdk:${DOTNET_SDK_VERSION}-noble AS runtime-cpu/|built on the SDK'
    'Dockerfile|/apt-get install/s/ curl / /|is not installed in the runtime image'
    '.dockerignore|/^models\/$/d|.dockerignore: lacks'
    'docker-compose.yml|/driver: nvidia/d|reserves an NVIDIA GPU'
    'docker-compose.yml|0,/^        read_only: true/s//        read_only: false/|models read-only'
    'docker-compose.yml|s/SD_METRICS_ACCESS: \${SD_METRICS_ACCESS:-deny all;}/SD_METRICS_ACCESS: ${SD_METRICS_ACCESS:-}/|SD_METRICS_ACCESS defaults'
    'deploy/k8s/deployment.yaml|s/path: \/health\/ready/path: \/healthz/|probes on /health/live and /health/ready'
    'deploy/k8s/deployment.yaml|/nvidia.com\/gpu: 1/d|nvidia.com/gpu'
    'deploy/k8s/deployment.yaml|s/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/|readOnlyRootFilesystem'
    'deploy/k8s/ingress.yaml|s/proxy-buffering: "off"/proxy-buffering: "on"/|proxy-buffering'
    'deploy/k8s/ingress.yaml|s/path: \/sd\/((?!metrics).\*)/path: \/sd\/(.*)/|but not /sd/metrics'
    'deploy/k8s/pdb.yaml|s/^  maxUnavailable: 1/  maxUnavailable: [1/|is valid YAML'
    'deploy/k8s/service.yaml|s/targetPort: http/targetPort: web/|Service targetPort'
    'deploy/prometheus/prometheus.yml|s/scrape_interval: 15s/scrape_interval: 15 seconds/|promtool check config'
    'deploy/prometheus/prometheus.yml|s/"server:5000"/"server:8080"/|scrapes the server'
    'deploy/nginx/templates/default.conf.template|s/keepalive 16;/keepalive sixteen;/|nginx -t'
    'deploy/nginx/templates/default.conf.template|/proxy_buffering off;/d|SSE location unbuffered'
    'Dockerfile|s/^ENV Urls=http:\/\/+:5000/ENV ASPNETCORE_URLS=http:\/\/+:5000/|ENV Urls=http://+:5000 not set'
    'docker-compose.yml|s/Models__ExecutionProvider: cuda/Inference__ExecutionProvider: cuda/|environment lacks Models__ExecutionProvider'
    'docker-compose.yml|s/Models__Items__0__Owner:/Models__Items__0__Owners:/|not a configuration key'
    'docker-compose.yml|s/Models__DemoModelPath: \/cache/Models__DemoModelPath: \/var/|not on the /cache tmpfs'
    'docker-compose.yml|s/      Urls: http:\/\/+:5000/      Urls: http:\/\/localhost:5000/|expected http://+:5000'
    'deploy/k8s/configmap.yaml|s/Queue__Capacity:/Queue__Capcity:/|not a configuration key'
    'deploy/compose/cpu.yml|s/Models__ExecutionProvider: cpu/Inference__ExecutionProvider: cpu/|Models__ExecutionProvider is not cpu'
    'deploy/k8s/configmap.yaml|s/Models__ExecutionProvider: cuda/Models__ExecutionProvider: gpu/|does not match'
    'deploy/prometheus/alerts.yml|s/sd_queue_depth/sd_queue_size/|not exported by the server'
    'deploy/prometheus/alerts.yml|s/expr: up{/expr: up({/|promtool check config'
    'deploy/README.md|s/`Models__Items__0__Owner`/`Models__0__Owner`/|name only real configuration keys'
    'tests/e2e/nginx/run.sh|s/export Urls=/export ASPNETCORE_URLS=/|does not set Urls'
    'deploy/k8s/ingress.yaml|s/proxy-body-size: 64m/proxy-body-size: 20m/|body limits are above'
    # The data directory (Storage__DataDirectory) on a volume: image, compose, k8s base.
    'Dockerfile|/^VOLUME /d|no VOLUME /var/lib/stablediffusion-server'
    'Dockerfile|s/chown sd:sd \/cache \/var\/lib\/stablediffusion-server/chown sd:sd \/cache/|is not chowned to the service user'
    'docker-compose.yml|s/^      Storage__DataDirectory: \/var\/lib\/stablediffusion-server$/      Storage__DataDirectory: \/var\/lib\/sd/|no volume mounted at Storage__DataDirectory'
    'deploy/k8s/deployment.yaml|s/mountPath: \/var\/lib\/stablediffusion-server/mountPath: \/data/|no writable volume mounted at Storage__DataDirectory'
    'deploy/k8s/deployment.yaml|s/maxSurge: 0/maxSurge: 1/|surges a second pod onto the ReadWriteOnce volume'
    # Compose profile scale.
    'docker-compose.yml|s/"--appendonly", "yes"/"--appendonly", "no"/|does not turn AOF on'
    'docker-compose.yml|s/^      Server__Role: api$/      Server__Role: all/|services with Server__Role=api'
    'docker-compose.yml|0,/      Server__Role: worker/s//      Server__Role: api/|services with Server__Role=worker'
    'docker-compose.yml|/^  worker-2:/,/Server__Role: worker/s/Server__Role: worker/Server__Role: worker\n      Outputs__SigningKey: another-key-of-at-least-32-characters/|Outputs__SigningKey differs'
    'docker-compose.yml|s/SD_UPSTREAM: "sd-api:5000 resolve"/SD_UPSTREAM: "sd-scale-metrics:5000 resolve"/|also reaches worker'
    'docker-compose.yml|s/Storage__Redis: redis:6379/Storage__Redis: localhost:6379/|is not the redis service'
    'docker-compose.yml|/^  worker-2:/,/^$/s/^      Server__Role: worker$/      Server__Role: worker\n    volumes: [sd-data:\/var\/lib\/stablediffusion-server]/|different volumes'
    # Kubernetes overlay deploy/k8s-scale.
    'deploy/k8s-scale/worker-scaledobject.yaml|s/^    name: stable-diffusion-server-worker$/    name: stable-diffusion-server-api/|scaleTargetRef'
    'deploy/k8s-scale/worker-scaledobject.yaml|0,/stream: sd:queue/s//stream: sd:jobs/|expected sd:queue'
    'deploy/k8s-scale/worker-scaledobject.yaml|0,/consumerGroup: workers/s//consumerGroup: worker/|expected workers'
    'deploy/k8s-scale/worker-scaledobject.yaml|s/lagCount: "2"/streamLength: "2"/|no trigger with lagCount'
    'deploy/k8s-scale/worker-scaledobject.yaml|s/pendingEntriesCount: "1"/lagCount: "1"/|no trigger with pendingEntriesCount'
    'deploy/k8s-scale/worker-scaledobject.yaml|0,/type: redis-streams/s//type: redis/|triggers:'
    'deploy/k8s-scale/worker-scaledobject.yaml|s/address: stable-diffusion-redis.stable-diffusion.svc.cluster.local:6379/address: stable-diffusion-redis:6379/|KEDA operator runs in its own namespace'
    'deploy/k8s-scale/redis.yaml|/- --appendonly/,+1d|do not turn AOF on'
    'deploy/k8s-scale/redis.yaml|s/^            - name: data$/            - name: scratch/;s/^  volumeClaimTemplates:$/      volumes: [{name: scratch, emptyDir: {}}]\n  volumeClaimTemplates:/|is not a volumeClaimTemplate'
    'deploy/k8s-scale/api-deployment.yaml|s/value: api$/value: all/|Deployments with Server__Role=api'
    'deploy/k8s-scale/worker-deployment.yaml|s/path: \/health\/ready/path: \/health\/live/|readinessProbe is /health/live'
    'deploy/k8s-scale/worker-deployment.yaml|s/mountPath: \/var\/lib\/stablediffusion-server/mountPath: \/data/|no writable volume at Storage__DataDirectory'
    'deploy/k8s-scale/worker-deployment.yaml|/nvidia.com\/gpu: 1/d|worker requests no nvidia.com/gpu'
    'deploy/k8s-scale/worker-deployment.yaml|/^            - name: Outputs__SigningKey$/,/key: signing-key/s/key: signing-key/key: signing-key-2/|which the overlay does not define'
    'deploy/k8s-scale/kustomization.yaml|/^  # The base.s single-box Deployment/,/^        name: stable-diffusion-server$/d|only api and worker Deployments'
    'deploy/k8s-scale/kustomization.yaml|/^images:/,$d|server images rewritten like the base'
    'deploy/k8s-scale/service-patch.yaml|s/app.kubernetes.io\/component: api/app.kubernetes.io\/name: stable-diffusion-server/|also selects worker pods'
    'deploy/k8s-scale/secrets.yaml|s/password=CHANGE-ME-redis-password/password=other/|does not carry redis-password'
    'deploy/k8s-scale/pdb.yaml|s/^  maxUnavailable: 1$/  maxUnavailable: 0/|blocks every drain'
    'deploy/k8s-scale/api-hpa.yaml|s/^    name: stable-diffusion-server-api$/    name: stable-diffusion-server-worker/|no HorizontalPodAutoscaler targets'
    'deploy/k8s-scale/outputs-pvc.yaml|s/ReadWriteMany/ReadWriteOnce/|is not ReadWriteMany'
    'deploy/k8s-scale/configmap-patch.yaml|s/Storage__Backend: Redis/Storage__Backend: Embedded/|Storage__Backend is Embedded'
    'deploy/k8s-scale/configmap-patch.yaml|s/Storage__MaxAttempts:/Storage__MaxAttempt:/|not a configuration key'
)
if docker compose version > /dev/null 2>&1 || command -v docker-compose > /dev/null; then
    mutations+=('docker-compose.yml|0,/restart: unless-stopped/s//restartt: unless-stopped/|config -q')
    mutations+=('docker-compose.yml|/^  nginx-scale:/,/^$/s/^    profiles: \[scale\]$/    profiles: scale/|profile scale config -q')
fi

for m in "${mutations[@]}"; do
    IFS='|' read -r file expr guard <<< "$m"
    copy_tree
    sed -i -e "$expr" "$WORK/tree/$file"
    if cmp -s "$ROOT/$file" "$WORK/tree/$file"; then result bad "mutation of $file changed nothing (sed: $expr)"; continue; fi
    if SD_REPO_ROOT="$WORK/tree" "$HERE/check.sh" > "$WORK/mutant.log" 2>&1; then
        result bad "defect in $file ($expr) is caught: check.sh passed"
    elif grep -F "$guard" "$WORK/mutant.log" | grep -q '^FAIL'; then
        result ok "defect in $file ($expr) is caught by '$guard'"
    else
        grep -E '^(FAIL|    )' "$WORK/mutant.log"; result bad "defect in $file ($expr) failed, but not on '$guard'"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
