#!/usr/bin/env bash
# Build uaio and run the main job: `uaio bench`, random 4 KiB reads on every
# engine this host can run and on the system libaio, with a table of IOPS,
# latency and ratios.  Arguments go to `uaio bench` (try --help).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/deps.sh"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$here/build" -j"$(nproc)" >/dev/null
exec "$here/build/tools/uaio" bench "$@"
