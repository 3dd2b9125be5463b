# Reference values for Tests/AssistTests: cleanlab's confident learning on a fixed, seeded set of predicted
# probabilities (600 images, 5 classes, 8% of the given labels flipped, a model that is right most of the time).
# Writes Tests/AssistTests/Fixtures/confident-learning.txt: the labels, the probabilities, then cleanlab's
# per-class thresholds, its (uncalibrated) confident joint, and the indices of its label issues with
# filter_by="confident_learning", then with its default filter_by="prune_by_noise_rate", each ranked by
# self-confidence. Run with a Python that has cleanlab
# (python3 -m venv v && v/bin/pip install cleanlab):  v/bin/python scripts/reference/confident-learning.py
import numpy as np
from cleanlab.count import compute_confident_joint, get_confident_thresholds
from cleanlab.filter import find_label_issues

rng = np.random.default_rng(7)
n, k = 600, 5
truth = rng.integers(0, k, n)
labels = truth.copy()
flipped = rng.random(n) < 0.08
labels[flipped] = (truth[flipped] + rng.integers(1, k, flipped.sum())) % k
logits = rng.normal(0, 1.0, (n, k))
logits[np.arange(n), truth] += rng.uniform(0.5, 3.5, n)
probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
probs = np.round(probs, 6)
probs /= probs.sum(axis=1, keepdims=True)

thresholds = get_confident_thresholds(labels, probs)
joint = compute_confident_joint(labels, probs, calibrate=False)
issues = find_label_issues(labels, probs, filter_by="confident_learning", return_indices_ranked_by="self_confidence")
pruned = find_label_issues(labels, probs, filter_by="prune_by_noise_rate", return_indices_ranked_by="self_confidence")
with open("Tests/AssistTests/Fixtures/confident-learning.txt", "w") as out:
    out.write(f"{n} {k}\n")
    out.write(" ".join(map(str, labels)) + "\n")
    for row in probs:
        out.write(" ".join(f"{p:.17g}" for p in row) + "\n")
    out.write(" ".join(f"{t:.17g}" for t in thresholds) + "\n")
    for row in joint:
        out.write(" ".join(map(str, row)) + "\n")
    out.write(" ".join(map(str, issues)) + "\n")
    out.write(" ".join(map(str, pruned)) + "\n")
print(f"{len(issues)} and {len(pruned)} label issues, {int(flipped.sum())} flipped")
