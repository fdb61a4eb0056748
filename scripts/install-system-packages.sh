#!/usr/bin/env bash
# The Debian/Ubuntu packages wijkradar needs beside its Python packages, installed only where missing:
#   chromium       draws the report's charts and prints its PDF (wijkradar report), and runs the browser tests
#   poppler-utils  pdftotext and pdftoppm: the tests read the report's PDF and render its pages
#   a Java runtime the Spark engine of `wijkradar linkage run --engine spark` (and its tests)
#   postgresql     the app tests' second run against a PostgreSQL server (only with --tests)
# Usage: bash scripts/install-system-packages.sh [--tests]    (as root, or with sudo)
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
if [ "${1:-}" = "--tests" ]; then
  command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "Installeren: ${need[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
