#!/usr/bin/env bash
# Sets up (apt, as root), builds and runs the main job: `punchlab demo`, the
# classic NAT matrix in ns-3; its grid, results and report.html go to ./demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=$("$root/scripts/build.sh" | tail -n 1)
"$build_dir/sim/punchlab" demo "$@"
