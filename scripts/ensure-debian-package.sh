#!/usr/bin/env bash
# ensure-debian-package.sh PACKAGE BINARY [required-in-ci]
# Installs Debian's PACKAGE when BINARY is missing and we run as root with apt; otherwise
# says so. With "required-in-ci", a missing BINARY fails under CI=true.
set -euo pipefail
package="$1" binary="$2" required="${3:-}"
if [ -x "$binary" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installation du paquet Debian « $package »…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  exit 0
fi
if [ "$required" = "required-in-ci" ] && [ "${CI:-}" = "true" ]; then
  echo "ERREUR : $binary est absent ; il est obligatoire en CI." >&2
  exit 1
fi
echo "ATTENTION : $binary est absent (paquet Debian « $package »)." >&2
