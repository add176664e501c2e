#!/usr/bin/env bash
# Builds mavin (release) and installs it like a tool:
#   PREFIX/bin/mavin
#   PREFIX/share/mavin/models/mavin-motion.safetensors   (the default model, found from any folder)
#   PREFIX/share/mavin/themes/*.toml
# PREFIX: the first argument, else /usr/local as root, else ~/.local.
# MAVIN_BUILD_JOBS sets swift build's -j (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
    prefix=$1
elif [ "$(id -u)" = 0 ]; then
    prefix=/usr/local
else
    prefix=$HOME/.local
fi
jobs=${MAVIN_BUILD_JOBS:-$(nproc)}
swift build -c release -j "$jobs" --product mavin
bin=$(swift build -c release --show-bin-path)
install -d "$prefix/bin" "$prefix/share/mavin/models" "$prefix/share/mavin/themes"
install -m 755 "$bin/mavin" "$prefix/bin/mavin"
install -m 644 Samples/models/mavin-motion.safetensors "$prefix/share/mavin/models/"
install -m 644 Themes/*.toml "$prefix/share/mavin/themes/"
echo "installed $prefix/bin/mavin, its model and themes in $prefix/share/mavin"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
"$prefix/bin/mavin" --version
