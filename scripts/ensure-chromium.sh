#!/bin/sh
# Makes sure Debian's chromium is installed, for the report's browser check (test/report/browser.test.ts).
# Idempotent: does nothing when /usr/bin/chromium exists. Non-interactive (works with CI=true and no
# stdin); uses sudo only when not root, and only if sudo can run without a password.
# A failed install does not fail this script: the browser test then fails with the reason.
set -u

CHROMIUM=${PGPO_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "ensure-chromium: $CHROMIUM is missing and this user can neither install packages nor sudo without a password;" >&2
  echo "ensure-chromium: install it yourself: apt-get install -y --no-install-recommends chromium" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available (not Debian/Ubuntu?); install chromium by hand" >&2
  exit 0
fi

echo "ensure-chromium: installing chromium with apt-get (first run only)..." >&2
export DEBIAN_FRONTEND=noninteractive
if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 &&
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium </dev/null >&2; then
  echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)" >&2
else
  echo "ensure-chromium: apt-get could not install chromium (no network or no package?); the browser test will fail" >&2
fi
exit 0
