#!/usr/bin/env bash
# Set up certdesk on Debian 12 (run as root, or with sudo available): system packages,
# then a virtualenv at .venv with certdesk installed. Safe and fast to run again.
#
#   bash scripts/setup.sh          what the main job needs (LibreOffice, CJK fonts, tools)
#   bash scripts/setup.sh --dev    plus what the tests need (PostgreSQL, Chromium, NSS tools)
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

packages=(
  python3 python3-venv python3-uno           # the venv uses Debian's Python for LibreOffice's UNO
  libreoffice-writer-nogui                   # DOCX -> PDF/A, kept warm by certdesk
  fonts-noto-cjk fonts-noto-core fonts-liberation2 fontconfig   # embedded CJK + Latin fonts
  poppler-utils zbar-tools qpdf              # pdfsig/pdffonts/pdftoppm, zbarimg: independent checks
)
if (( dev )); then
  packages+=(postgresql chromium libnss3-tools)
fi

sudo=""
if (( EUID != 0 )); then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's python3 (not any other python on PATH): only it can import LibreOffice's uno.
if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c "import uno" 2>/dev/null; then
  rm -rf .venv
  /usr/bin/python3 -m venv --system-site-packages .venv
fi

extras=""
(( dev )) && extras="[test]"
stamp=".venv/.certdesk-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)${extras}"
if [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "$want" && "$(cat "$stamp")" != "${want}[test]" ]]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
  echo "$want" > "$stamp"
fi
# axe-core (the accessibility engine the browser tests inject into Chromium), kept with
# the venv so that nothing is installed system-wide.
if (( dev )) && [[ ! -f .venv/axe/node_modules/axe-core/axe.min.js ]]; then
  if ! command -v npm >/dev/null; then  # Debian's npm conflicts with NodeSource's nodejs
    echo "setup: installing npm" >&2
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends npm
  fi
  npm install --prefix .venv/axe --no-audit --no-fund --silent axe-core@4
fi
# The English catalog compiled (.mo): read in 3 ms instead of Babel compiling the .po on
# first use (65 ms); docs/translations.md.
bash scripts/i18n.sh compile
echo "setup: ready (.venv/bin/certdesk)" >&2
