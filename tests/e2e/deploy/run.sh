#!/usr/bin/env bash
# E2E suite "deploy": static checks of the Dockerfile, compose file, nginx, Prometheus and Kubernetes manifests
# (check.sh), then the self-test that breaks copies of them on purpose to prove every check can fail.
# Needs (Debian): nginx prometheus nodejs npm docker-compose curl gettext-base
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/check.sh"
bash "$here/selftest.sh"
