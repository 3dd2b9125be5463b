# Benchmark peer for our label-issue finder: compares it with cleanlab on one directory written by our Swift tool.
# Measures, against the ground truth of deliberately flipped labels (flipped.txt):
#   imgcls                     precision/recall/F1 of our flagged images (imgcls-issues.txt);
#   cleanlabSameProbabilities  cleanlab.filter.find_label_issues on our out-of-sample probabilities
#                              (probabilities.csv), filter_by prune_by_noise_rate (default) and confident_learning,
#                              seconds = best of 3 runs of that call alone;
#   cleanlabWholePass          what a cleanlab user runs from the same features: StandardScaler + LogisticRegression
#                              (max_iter=1000, C=1.0) in a Pipeline, cross_val_predict with StratifiedKFold(folds,
#                              shuffle=True, random_state=seed), then find_label_issues (default filter); one run.
# DIR holds meta.json ({"n","width","classes","folds","seed"}), features.f32 (n*width little-endian float32,
# row-major), labels.txt, flipped.txt, probabilities.csv and imgcls-issues.txt. Prints one JSON object to stdout.
# Usage (Python with cleanlab, scikit-learn, numpy):  python label-issues-cleanlab.py DIR
import json, os, sys, time
from pathlib import Path

import numpy as np
import sklearn
import cleanlab
from cleanlab.filter import find_label_issues
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def scores(flagged, flipped):
    """Precision, recall and F1 of the flagged index set against the flipped index set."""
    flagged, flipped = set(map(int, flagged)), set(map(int, flipped))
    hits = len(flagged & flipped)
    precision = hits / len(flagged) if flagged else 0.0
    recall = hits / len(flipped) if flipped else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"flagged": len(flagged), "correct": hits, "precision": precision, "recall": recall, "f1": f1}


def main(directory):
    d = Path(directory)
    meta = json.loads((d / "meta.json").read_text())
    n, width, k, folds, seed = (meta[key] for key in ("n", "width", "classes", "folds", "seed"))
    features = np.fromfile(d / "features.f32", dtype="<f4").reshape(n, width)
    labels = np.loadtxt(d / "labels.txt", dtype=np.int64).reshape(-1)
    flipped = np.flatnonzero(np.loadtxt(d / "flipped.txt", dtype=np.int64).reshape(-1))
    probs = np.loadtxt(d / "probabilities.csv", delimiter=",", dtype=np.float64).reshape(n, k)
    ours = [int(line) for line in (d / "imgcls-issues.txt").read_text().split()]
    assert len(labels) == n and probs.shape == (n, k)

    same = {}
    for filter_by in ("prune_by_noise_rate", "confident_learning"):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            mask = find_label_issues(labels, probs, filter_by=filter_by)
            best = min(best, time.perf_counter() - start)
        same[filter_by] = {**scores(np.flatnonzero(mask), flipped), "seconds": best}

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    start = time.perf_counter()
    cv_probs = cross_val_predict(model, features, labels, cv=cv, method="predict_proba", n_jobs=1)
    cv_seconds = time.perf_counter() - start
    mask = find_label_issues(labels, cv_probs, filter_by="prune_by_noise_rate")
    whole_seconds = time.perf_counter() - start
    whole = {**scores(np.flatnonzero(mask), flipped), "seconds": whole_seconds, "cvSeconds": cv_seconds,
             "cvAccuracy": float((cv_probs.argmax(axis=1) == labels).mean()),
             "threads": {"cpuCount": os.cpu_count(),
                         **{v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}}

    print(json.dumps({"n": n, "width": width, "classes": k, "folds": folds, "seed": seed, "flipped": len(flipped),
                      "imgcls": scores(ours, flipped), "cleanlabSameProbabilities": same, "cleanlabWholePass": whole,
                      "versions": {"cleanlab": cleanlab.__version__, "sklearn": sklearn.__version__,
                                   "numpy": np.__version__}}, indent=2))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: label-issues-cleanlab.py DIR")
    main(sys.argv[1])
