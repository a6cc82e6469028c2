#!/usr/bin/env bash
# Install Debian's headless Java runtime for pycocoevalcap (ScanQA's METEOR and PTB tokenizer in the
# `scene3d` benchmark). Idempotent and quiet. Without Java the benchmark still runs: METEOR is
# reported as not computed, with the reason.
set -euo pipefail
exec bash "$(dirname "$0")/apt_install.sh" setup_java 'command -v java >/dev/null' default-jre-headless
