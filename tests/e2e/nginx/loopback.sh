# Sourced by tests/e2e/nginx/run.sh and tests/e2e/deploy/check.sh: runs deploy/nginx's template on a loopback
# nginx owned by the current user (own prefix, pid, logs and temp dirs under one work folder).
# Needs the Debian package: nginx (its binary is /usr/sbin/nginx, often outside a normal user's PATH).

SD_REPO_ROOT="${SD_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
SD_NGINX_TEMPLATE="${SD_NGINX_TEMPLATE:-$SD_REPO_ROOT/deploy/nginx/templates/default.conf.template}"

sd_nginx_bin() {
    if [ -n "${NGINX_BIN:-}" ]; then echo "$NGINX_BIN"; return; fi
    command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || {
        echo "nginx not found (apt-get install -y nginx, or set NGINX_BIN)" >&2; return 1; }
}

# sed replacement text: escape the delimiter, & and backslashes.
sd_sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

# sd_nginx_render WORKDIR LISTEN_PORT UPSTREAM [METRICS_ACCESS]
# Writes WORKDIR/conf/nginx.conf (main) and WORKDIR/conf/sd.conf (the rendered template).
sd_nginx_render() {
    local work="$1" port="$2" upstream="$3" metrics="${4:-deny all;}"
    mkdir -p "$work/conf" "$work/logs" "$work/tmp/client_body" "$work/tmp/proxy" "$work/tmp/fastcgi" \
             "$work/tmp/uwsgi" "$work/tmp/scgi"
    sed -e "s|\${SD_LISTEN}|127.0.0.1:$(sd_sed_escape "$port")|g" \
        -e "s|\${SD_UPSTREAM}|$(sd_sed_escape "$upstream")|g" \
        -e "s|\${SD_RESOLVER}|127.0.0.1|g" \
        -e "s|\${SD_METRICS_ACCESS}|$(sd_sed_escape "$metrics")|g" \
        "$SD_NGINX_TEMPLATE" > "$work/conf/sd.conf"
    if grep -n '\${SD_' "$work/conf/sd.conf" >&2; then
        echo "deploy/nginx template has a placeholder that loopback.sh does not render (above)" >&2
        return 1
    fi
    # `user` only matters when started as root (workers would otherwise run as nobody and could not write the
    # temp dirs); as another user nginx ignores it with a warning.
    cat > "$work/conf/nginx.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log info;
events { worker_connections 256; }
http {
    default_type application/octet-stream;
    access_log $work/logs/access.log;
    client_body_temp_path $work/tmp/client_body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    include $work/conf/sd.conf;
}
CONF
}

# sd_nginx_test WORKDIR: nginx -t on the rendered configuration.
sd_nginx_test() {
    local work="$1" bin
    bin="$(sd_nginx_bin)" || return 1
    "$bin" -t -p "$work" -e "$work/logs/error.log" -c "$work/conf/nginx.conf"
}

# sd_nginx_start WORKDIR: starts nginx in the foreground of a background job; sets SD_NGINX_PID.
sd_nginx_start() {
    local work="$1" bin
    bin="$(sd_nginx_bin)" || return 1
    "$bin" -p "$work" -e "$work/logs/error.log" -c "$work/conf/nginx.conf" -g 'daemon off;' \
        > "$work/logs/stdout.log" 2>&1 &
    SD_NGINX_PID=$!
}

# sd_free_port: a TCP port free on 127.0.0.1 right now.
sd_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# sd_wait_http URL SECONDS [PID]: waits until URL answers 2xx; gives up early if PID has exited.
sd_wait_http() {
    local url="$1" secs="$2" pid="${3:-}" i
    for ((i = 0; i < secs * 5; i++)); do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "process $pid exited before $url answered" >&2; return 1
        fi
        sleep 0.2
    done
    echo "$url did not answer 2xx within ${secs}s" >&2
    return 1
}
