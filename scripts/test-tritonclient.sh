#!/usr/bin/env bash
# The Open Inference Protocol as Triton's own client speaks it: `tritonclient[http]` (PyPI, in a venv; Python only
# in this test) sends real image files to `imgcls serve` on 127.0.0.1 with its defaults (binary tensor data in and
# out) and as JSON (base64 in, JSON out), and the probabilities must equal `imgcls predict`'s for the same files.
# The model is trained here from scratch on small generated pictures (seconds). Skips, saying why, when PyPI
# cannot be reached. Called by `make test`; bounded: the server is stopped at the end whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${IMGCLS_BIN:-$(swift build --show-bin-path)}
[ -x "$bin/imgcls" ] || swift build --product imgcls >/dev/null
venv=bench-data/venv-tritonclient
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import tritonclient.http" 2>/dev/null; then
  python3 -m venv "$venv" >/dev/null 2>&1 || { echo "tritonclient: skipped (python3 -m venv failed: scripts/setup.sh installs python3-venv)"; exit 0; }
  if ! timeout 300 "$venv/bin/pip" install -q "tritonclient[http]" numpy >/dev/null 2>&1; then
    echo "tritonclient: skipped (pip could not install tritonclient[http] from PyPI)"
    exit 0
  fi
fi

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
# Two classes of 40x32 pictures: plain and noisy, 8 each (PNG written with the standard library).
"$venv/bin/python" - "$work/pictures" <<'PY'
import os, random, struct, sys, zlib
root = sys.argv[1]
def png(path, rows):
    raw = b"".join(b"\0" + bytes(row) for row in rows)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 32, 8, 2, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
rng = random.Random(1)
for label, noise in (("plain", 4), ("busy", 90)):
    os.makedirs(f"{root}/{label}")
    for i in range(8):
        base = [rng.randrange(256) for _ in range(3)]
        png(f"{root}/{label}/{i}.png", [[max(0, min(255, base[x % 3] + rng.randint(-noise, noise))) for x in range(40 * 3)] for _ in range(32)])
PY
"$bin/imgcls" curate --from "$work/pictures" --workspace "$work/data" --quiet >/dev/null
"$bin/imgcls" split --workspace "$work/data" --ratio 0.75,0.25 --quiet >/dev/null
"$bin/imgcls" train --workspace "$work/data" --from-scratch --input-size 16 --width 4 --blocks 1 --epochs 2 --quiet >/dev/null
files=("$work"/pictures/plain/0.png "$work"/pictures/busy/1.png "$work"/pictures/busy/5.png)
"$bin/imgcls" predict --workspace "$work/data" --top-k 2 --json "${files[@]}" > "$work/predict.json"

port=$("$venv/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$bin/imgcls" serve --workspace "$work/data" --port "$port" --quiet > "$work/serve.log" 2>&1 &
server=$!
"$venv/bin/python" - "$port" "$work/predict.json" "${files[@]}" <<'PY'
import base64, json, sys, time
import numpy as np
import tritonclient.http as http
port, expected_file, files = sys.argv[1], sys.argv[2], sys.argv[3:]
client = http.InferenceServerClient(f"127.0.0.1:{port}")
deadline = time.time() + 60
while True:
    try:
        if client.is_server_ready():
            break
    except Exception:
        pass
    if time.time() > deadline:
        sys.exit("tritonclient: imgcls serve did not become ready in 60 s")
    time.sleep(0.2)
model = client.get_model_metadata("default")
assert model["inputs"][0]["datatype"] == "BYTES", model
expected = {}
for record in json.load(open(expected_file))["results"]:
    expected[record["name"]] = {score["index"]: score["probability"] for score in record["top"]}
raw = [open(f, "rb").read() for f in files]
answers = {}
for binary in (True, False):
    image = http.InferInput("image", [len(files)], "BYTES")
    # In JSON, tritonclient writes BYTES elements as text: the images go as base64, as the protocol's JSON form has them.
    image.set_data_from_numpy(np.array(raw if binary else [base64.b64encode(b).decode() for b in raw], dtype=object), binary_data=binary)
    output = http.InferRequestedOutput("probabilities", binary_data=binary)
    # Binary: tritonclient's defaults throughout (no outputs named: all of them, as binary data).
    result = client.infer("default", [image]) if binary else client.infer("default", [image], outputs=[output])
    answers[binary] = result.as_numpy("probabilities")
    assert answers[binary].shape == (len(files), 2), answers[binary].shape
assert np.array_equal(answers[True], answers[False]), (answers[True], answers[False])
# predict's top 2 of 2 classes, by class index.
worst = max(abs(float(row[index]) - probability) for name, row in zip(files, answers[True]) for index, probability in expected[name].items())
assert all(len(expected[name]) == 2 for name in files) and worst < 1e-6, (worst, expected, answers[True])
print(f"tritonclient: {len(files)} images sent binary and as JSON: the same probabilities, and imgcls predict's (largest difference {worst:.1e})")
PY
