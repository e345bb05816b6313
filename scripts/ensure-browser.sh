#!/usr/bin/env bash
# Browser tests drive Debian's Chromium. Install it when we can; otherwise say so loudly.
set -euo pipefail
BROWSER=/usr/bin/chromium
if [ -x "$BROWSER" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installation de Chromium (Debian) pour les tests navigateur…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "ERREUR : $BROWSER est absent ; les tests navigateur sont obligatoires en CI." >&2
  exit 1
fi
echo "ATTENTION : $BROWSER est absent ; les tests navigateur seront ignorés." >&2
echo "            Installez le paquet Debian « chromium » pour les lancer." >&2
