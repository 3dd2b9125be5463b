#!/usr/bin/env bash
# The review app at scale: a synthetic catalog of ROWS (default 1,000,000) rows written by `imgcls-dev
# review-catalog` (a curated crawl's mix of statuses, reasons, flags, scores, clusters and splits; a few dozen real
# pictures behind all rows), served by `imgcls review` (release build). Measured from one client on 127.0.0.1: the
# time to listen (the filters' counts are read first), the first grid page, then each filter and sort change a
# person makes (first ask and best of 3), a page deep in the grid, an item's page, a bulk decision on a filter
# and its undo, and the server's peak memory. Goals: each page and filter change under 150 ms, memory under 200 MB.
source "$(dirname "$0")/bench-lib.sh"
rows=${ROWS:-1000000}
bench_build imgcls imgcls-dev
space=bench-data/review-$rows
[ -f "$space/catalog.sqlite" ] || "$bin/imgcls-dev" review-catalog "$space" --rows "$rows"
port=$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
started=$(date +%s.%N)
"$bin/imgcls" review --workspace "$space" --port "$port" > bench-data/review-bench.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null' EXIT
python3 - "$port" "$started" "$server" "$rows" <<'PY'
import http.client, json, sys, time
port, started, pid, rows = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def connect():
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            c.request("GET", "/api/journal")
            c.getresponse().read()
            return c
        except OSError:
            time.sleep(0.02)

connection = connect()
listening = time.time() - started
page = connection
page.request("GET", "/")
token = page.getresponse().read().decode().split('name="review-token" content="')[1][:64]

def ask(method, path, body=None):
    headers = {"Content-Type": "application/json", "X-Review-Token": token} if body is not None else {}
    t = time.perf_counter()
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    reply = connection.getresponse()
    data = reply.read()
    ms = (time.perf_counter() - t) * 1000
    assert reply.status == 200, (path, reply.status, data[:300])
    return ms, json.loads(data)

def rss():
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

first_ms, first = ask("GET", "/api/items")
# A cluster and one of its members, for the cluster's grid and an item's page.
member = next(i for i in ask("GET", "/api/items?status=excluded&reason=near_duplicate")[1]["items"] if i.get("cluster"))
print(f"catalog: {first['catalog_items']:,} rows; listening after {listening:.2f} s (the filters' counts read first)")
print(f"first grid page: {first_ms:.1f} ms ({len(first['items'])} items, {first['total']:,} in all)")
asks = [
    ("label", "/api/items?label=class03"),
    ("status", "/api/items?status=excluded"),
    ("reason", "/api/items?reason=near_duplicate"),
    ("flag (5%)", "/api/items?flag=blurry"),
    ("flag (rare)", "/api/items?flag=off_topic"),
    ("label + flag + status", "/api/items?label=class07&flag=dark&status=ok"),
    ("split", "/api/items?split=validation"),
    ("decided by hand", "/api/items?decided=yes"),
    ("label issues by label score", "/api/items?flag=label_issue&sort=label_score"),
    ("sort by nsfw score", "/api/items?sort=nsfw_score"),
    ("sort by off-topic score, one label", "/api/items?label=class02&sort=off_topic_score"),
    ("sort by size", "/api/items?sort=largest"),
    ("newest first, excluded", "/api/items?status=excluded&sort=newest"),
    ("a cluster", "/api/items?cluster=%d" % member["cluster"]),
    ("page 2,000", "/api/items?page=2000"),
    ("an item with its cluster", "/api/items/%d" % member["id"]),
]
worst = first_ms
print(f"{'what':38} {'first ms':>9} {'best of 3':>10} {'items':>10}")
for name, path in asks:
    once, reply = ask("GET", path)
    best = min(ask("GET", path)[0] for _ in range(3))
    worst = max(worst, once)
    total = reply.get("total", len(reply.get("cluster", [])))
    print(f"{name:38} {once:9.1f} {best:10.1f} {total:>10,}")
# A bulk decision on a filter, the grid after it (the counts read again), and its undo.
_, grid = ask("GET", "/api/items?label=class05&flag=dark&status=ok")
decide_ms, outcome = ask("POST", "/api/decisions", {"action": "exclude", "note": "bench", "filter": {"label": "class05", "flag": "dark", "status": "ok"}, "expected": grid["total"]})
after_ms, _ = ask("GET", "/api/items?label=class05")
undo_ms, undone = ask("POST", "/api/undo", {})
worst = max(worst, after_ms)
print(f"exclude {outcome['changed']:,} items on a filter: {decide_ms:.1f} ms; the next grid page: {after_ms:.1f} ms; undo: {undo_ms:.1f} ms")
now, peak = rss()
print(f"memory: {now:.0f} MB now, {peak:.0f} MB at most (VmHWM)")
print(f"slowest page or filter change: {worst:.1f} ms (goal: under 150); peak memory {peak:.0f} MB (goal: under 200)")
print(f"RESULT\treview, slowest grid page or filter change, {rows:,} rows\timgcls review\t-\t{worst:.1f}\t-\tms\t-\t<150")
print(f"RESULT\treview, peak memory, {rows:,} rows\timgcls review\t-\t{peak:.0f}\t-\tMB\t-\t<200")
PY
