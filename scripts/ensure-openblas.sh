#!/bin/sh
# Makes sure a CBLAS library is installed for the native backend (src/model/native/blas.ts):
# Debian's OpenBLAS, libopenblas0-pthread. Idempotent: does nothing when the library is already
# found. Non-interactive (CI=true, no stdin); uses sudo only when not root and only without a
# password. A failed install does not fail this script: the native backend then falls back to
# jax-js with a one-line warning naming the package.
set -u

if [ -n "${PGPO_BLAS:-}" ]; then
  exit 0
fi
if ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0'; then
  exit 0
fi
for f in /usr/lib/x86_64-linux-gnu/libopenblas.so.0 /usr/lib/aarch64-linux-gnu/libopenblas.so.0; do
  [ -e "$f" ] && exit 0
done

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "ensure-openblas: no CBLAS library, and this user can neither install packages nor sudo without a password;" >&2
  echo "ensure-openblas: install it yourself: apt-get install -y libopenblas0-pthread (the native backend falls back to jax-js meanwhile)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-openblas: no CBLAS library and no apt-get; install OpenBLAS by hand or set PGPO_BLAS=/path/to/libcblas" >&2
  exit 0
fi

echo "ensure-openblas: installing libopenblas0-pthread with apt-get (first run only)..." >&2
if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libopenblas0-pthread </dev/null >&2 ||
  { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 &&
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libopenblas0-pthread </dev/null >&2; }; then
  echo "ensure-openblas: installed libopenblas0-pthread" >&2
else
  echo "ensure-openblas: apt-get could not install libopenblas0-pthread; the native backend will fall back to jax-js" >&2
fi
exit 0
