#!/usr/bin/env bash
# The formatter's rules (.swift-format: 4 spaces, 120 columns, one statement a line) hold for every Swift file,
# and no line is longer than 120 characters — swift-format leaves long string literals and comments alone.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive --parallel Sources Tests Package.swift
long=$(LC_ALL=C.UTF-8 grep -rnP --include='*.swift' '^.{121,}' Sources Tests Package.swift || true)
if [ -n "$long" ]; then
    echo "lines over 120 characters (split them; \`swift format format --in-place\` fixes the rest):" >&2
    echo "$long" >&2
    exit 1
fi
echo "format: swift-format lint and the 120-column check pass"
