#!/usr/bin/env bash
# Create or reuse sparsec's virtual environment and the system packages the tests need,
# then print the environment's path on stdout (progress goes to stderr).
#
# The environment lives outside the clone, in $SPARSEC_ENV_ROOT (default
# ~/.cache/sparsec/envs), under a hash of the dependency spec: CI runs and later clones
# reuse it, and changing a dependency builds a new one. torch and torchvision come from
# this machine's local wheel store through pip's own configuration.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

log() { echo "[env] $*" >&2; }

# --- Debian packages for the ahead-of-time tests (tests/aot fail without them) --------
need_apt=()
command -v qemu-aarch64 >/dev/null || need_apt+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || need_apt+=(gcc-aarch64-linux-gnu)
command -v aarch64-linux-gnu-objdump >/dev/null || need_apt+=(binutils-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || need_apt+=(libc6-dev-arm64-cross)
command -v gcc >/dev/null || need_apt+=(gcc)
command -v g++ >/dev/null || need_apt+=(g++)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing ${need_apt[*]} with apt-get"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >&2
fi

# --- the virtual environment ------------------------------------------------------------
hash=$("$python" "$root/scripts/dep_hash.py")
env_dir=${SPARSEC_ENV_ROOT:-$HOME/.cache/sparsec/envs}/$hash
if [ ! -f "$env_dir/.complete" ]; then
  log "building the environment in $env_dir (several minutes, once per dependency spec)"
  rm -rf "$env_dir"
  mkdir -p "$(dirname "$env_dir")"
  "$python" -m venv "$env_dir"
  "$env_dir/bin/pip" install -q --upgrade pip >&2
  "$env_dir/bin/pip" install -q -e "$root[torch,dev,bench]" >&2
  touch "$env_dir/.complete"
  echo "$root" > "$env_dir/.sparsec-root"
fi
# The editable install points at one clone; re-point it when another clone uses the env.
if [ "$(cat "$env_dir/.sparsec-root" 2>/dev/null)" != "$root" ] \
   || ! "$env_dir/bin/python" -c "import sparsec" >/dev/null 2>&1; then
  log "pointing the editable install at $root"
  "$env_dir/bin/pip" install -q --no-deps -e "$root" >&2
  echo "$root" > "$env_dir/.sparsec-root"
fi
echo "$env_dir"
