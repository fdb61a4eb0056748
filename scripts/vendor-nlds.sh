#!/usr/bin/env bash
# Vendors the NL Design System CSS that wijkradar's pages use into the package (no CDN: users' networks
# block them), from the npm registry, at fixed versions. Run it again to update; commit the result.
#   @utrecht/component-library-css      html.css: the NL Design System components on plain HTML elements
#                                       (headings, paragraphs, links, buttons, form fields, tables)
#   @nl-design-system-unstable/voorbeeld-design-tokens
#                                       theme.css: the community's example theme (every component token);
#                                       wijkradar.css sets its own colours and type on top of it
# Both are EUPL-1.2; the licence is copied beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
components="@utrecht/component-library-css@9.0.4"
tokens="@nl-design-system-unstable/voorbeeld-design-tokens@7.4.1"
dest=src/wijkradar/web/static/nlds
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$components" "$tokens" >/dev/null)
mkdir -p "$work/c" "$work/t" "$dest"
tar xzf "$work"/utrecht-component-library-css-*.tgz -C "$work/c"
tar xzf "$work"/nl-design-system-unstable-voorbeeld-design-tokens-*.tgz -C "$work/t"
cp "$work/c/package/dist/html.css" "$dest/utrecht-html.css"
cp "$work/t/package/dist/theme.css" "$dest/voorbeeld-theme.css"
cp "$work/c/package/LICENSE.md" "$dest/LICENSE-EUPL-1.2.md"
printf 'From the npm registry: %s (dist/html.css), %s (dist/theme.css). EUPL-1.2.\nMade by scripts/vendor-nlds.sh; do not edit.\n' \
  "$components" "$tokens" > "$dest/SOURCES.txt"
echo "$dest: $(ls "$dest" | tr '\n' ' ')"
