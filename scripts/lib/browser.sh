#!/usr/bin/env bash
# Headless Chromium and its driver from Debian's packages, for the browser test of `driftwatch serve`.
#
#   source scripts/lib/browser.sh
#   browser_ensure     # installs chromium and chromium-driver when missing; exports DRIFTWATCH_CHROMIUM and
#                      # DRIFTWATCH_CHROMEDRIVER
#
# Quiet unless it fails. Needs root (or sudo) and Debian's package mirrors on the first run.

browser_ensure() {
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    local log sudo=()
    log="$(mktemp)"
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo -n)
    if ! {
      "${sudo[@]}" apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
          chromium chromium-driver
    } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "error: could not install chromium and chromium-driver (see above); install them, or run as root" >&2
      return 1
    fi
    rm -f "$log"
  fi
  DRIFTWATCH_CHROMIUM="$(command -v chromium)"
  DRIFTWATCH_CHROMEDRIVER="$(command -v chromedriver)"
  export DRIFTWATCH_CHROMIUM DRIFTWATCH_CHROMEDRIVER
  echo "$("$DRIFTWATCH_CHROMIUM" --version 2>/dev/null | head -1) at $DRIFTWATCH_CHROMIUM"
}
