#!/usr/bin/env bash
# Install Debian's Chromium (and its driver) for the browser tests of the Gradio demo
# (tests/demo/test_browser.py, marker `browser`; skipped until it is there). Idempotent and quiet.
# Playwright drives this binary, so `playwright install` (a browser download) is never needed.
set -euo pipefail
exec bash "$(dirname "$0")/apt_install.sh" setup_browser '[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]' \
  chromium chromium-driver
