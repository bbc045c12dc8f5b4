#!/usr/bin/env bash
# Install promptls into .venv, check the bundled examples like CI would, then start the language server on TCP.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/promptls check examples/ --fail-on never
echo
echo "Starting the language server on 127.0.0.1:${PROMPTLS_PORT:-2087} (Ctrl-C to stop; editors use 'promptls serve' over stdio)"
exec .venv/bin/promptls serve --tcp "127.0.0.1:${PROMPTLS_PORT:-2087}"
