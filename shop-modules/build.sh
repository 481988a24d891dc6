#!/usr/bin/env sh
# Builds the shop modules' installable archives into OUT_DIR (default: target/shop-modules).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../target/shop-modules"}
exec php "$here/build.php" "$out"
