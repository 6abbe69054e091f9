#!/usr/bin/env bash
# The translation catalogs (docs/translations.md): extract every msgid from the code and the
# templates, merge them into each language's .po, compile the .mo files.
#
#   bash scripts/i18n.sh            extract -> update -> compile
#   bash scripts/i18n.sh compile    compile only (what scripts/setup.sh runs)
#
# After it, fill the empty msgstr "" entries of src/certdesk/locale/en/LC_MESSAGES/certdesk.po
# (and remove every "#, fuzzy" flag once checked), then run it again to compile.
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=.venv/bin/pybabel
locale=src/certdesk/locale
pot=$locale/certdesk.pot

if [[ "${1:-}" != "compile" ]]; then
  # --sort-output and no line numbers: a catalog changes only where its messages do, so
  # branches that add strings merge without conflicts over moved lines.
  "$pybabel" -q extract -F babel.cfg --sort-output --add-location=file --no-wrap \
    --project=certdesk --copyright-holder="certdesk" --msgid-bugs-address="" \
    -o "$pot" src/certdesk
  for po in "$locale"/*/LC_MESSAGES/certdesk.po; do
    lang=$(basename "$(dirname "$(dirname "$po")")")
    # No fuzzy matching: a guessed translation of a changed text is worse than none.
    "$pybabel" -q update -i "$pot" -d "$locale" -D certdesk -l "$lang" \
      --no-fuzzy-matching --ignore-obsolete --no-wrap --ignore-pot-creation-date
  done
fi
"$pybabel" -q compile -d "$locale" -D certdesk --statistics
