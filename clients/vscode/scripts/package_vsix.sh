#!/usr/bin/env bash
# Builds the extension and packages it as a .vsix with @vscode/vsce (which needs Node >= 22, so it runs
# on the Node 24 that install_code_server.sh provides). Usage: package_vsix.sh [OUT.vsix]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext_dir="$(dirname "$here")"
out="$(realpath -m "${1:-$ext_dir/promptls.vsix}")"
node24="$(bash "$here/install_code_server.sh" | sed -n 's/^NODE24=//p')"
export PATH="$(dirname "$node24"):$PATH"
cd "$ext_dir"
npx tsc -p .
node scripts/bundle.mjs --minify
# No repository URL is published yet; the README image stays a relative link inside the package.
npx vsce package --no-dependencies --allow-missing-repository --out "$out" >&2
echo "VSIX=$out"
