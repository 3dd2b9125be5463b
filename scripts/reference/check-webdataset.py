# Reads `imgcls export --format webdataset` shards back with the Python `webdataset` package and with `tarfile`,
# and checks every sample against the workspace catalog: its class index (classes.json), its image bytes (the
# stored file), its metadata, a key without dots, and that the split's kept images are there exactly once.
#   python scripts/reference/check-webdataset.py WORKSPACE OUT SPLIT
import glob, hashlib, json, os, sqlite3, sys, tarfile
import webdataset as wds

workspace, out, split = sys.argv[1:4]
classes = json.load(open(os.path.join(out, "classes.json")))
db = sqlite3.connect(os.path.join(workspace, "catalog.sqlite"))
expected = {url: (label, path, sha256) for url, label, path, sha256 in db.execute(
    "SELECT source, label, path, sha256 FROM items WHERE status = 'ok' AND split = ?", (split,))}
shards = sorted(glob.glob(os.path.join(out, f"{split}-[0-9][0-9][0-9][0-9][0-9][0-9].tar")))
assert shards and expected, "nothing to check"

def check(key, files, seen):
    assert "." not in key, key
    meta = json.loads(files["json"])
    label, path, sha256 = expected[meta["url"]]
    assert meta["label"] == label and meta["sha256"] == sha256, meta
    assert int(files["cls"]) == classes.index(label), (key, files["cls"], label)
    (image,) = [files[k] for k in files if k not in ("json", "cls")]
    assert image == open(os.path.join(workspace, path), "rb").read(), key
    assert meta["url"] not in seen, meta["url"]
    seen.add(meta["url"])

seen = set()
for sample in wds.WebDataset(shards, shardshuffle=False):
    check(sample["__key__"], {k: v for k, v in sample.items() if not k.startswith("__")}, seen)
assert seen == set(expected), (len(seen), len(expected))

seen, members = set(), {}
for shard in shards:
    with tarfile.open(shard) as tar:
        for member in tar.getmembers():
            assert member.isfile() and member.mtime == 0 and member.uid == 0, member.name
            key, ext = member.name.split(".", 1)
            members.setdefault(key, {})[ext] = tar.extractfile(member).read()
for key, files in members.items():
    check(key, files, seen)
assert seen == set(expected)
print(f"webdataset: {len(seen)} {split} samples in {len(shards)} shards match the catalog (webdataset and tarfile)")
