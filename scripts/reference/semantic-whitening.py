#!/usr/bin/env python3
# Reference check behind the README's note on whitening (issue 15): does PCA whitening of the pooled features,
# learned on the set itself, separate planted copies from distinct pictures better than the raw cosine? Reads
# the features `imgcls-dev semantic-study --dump FILE` writes (float32 rows: N originals, then 6 copies of each,
# in Transformation.planted's order). Originals within cosine 0.97 of an earlier one are dropped first: the
# packages hold some pictures at several sizes. For each variant, the recall of each transformation at the
# thresholds that merge 0, 1, 4, 10 and 40 pairs of the remaining originals. Needs numpy.
# Usage: semantic-whitening.py FILE N
import numpy as np, sys
n=int(sys.argv[2]); T=6
names = ["crop2","crop5","rot90","rot5","flip","reframe10"]
X=np.fromfile(sys.argv[1],dtype=np.float32).reshape(-1,1280).astype(np.float64)
def unit(A): return A/np.maximum(np.linalg.norm(A,axis=1,keepdims=True),1e-12)
U=unit(X); O=U[:n]; S=O@O.T; np.fill_diagonal(S,0)
drop=set()
for i in range(n):
    if i in drop: continue
    for j in np.where(S[i]>=0.97)[0]:
        if j>i: drop.add(j)
keep=np.array([i for i in range(n) if i not in drop]); print("kept",len(keep))
def evaluate(F,label):
    F=unit(F); O=F[:n][keep]; C=F[n:].reshape(n,T,-1)[keep]
    true=np.einsum('nd,ntd->nt',O,C); S=O@O.T; iu=np.triu_indices(len(keep),1); d=np.sort(S[iu])[::-1]
    print(label)
    for k in [0,1,4,10,40]:
        t=d[k]
        print(f"  false<={k:2d} t={t:.3f} all {(true>t).mean()*100:5.1f}% "+" ".join(f"{nm} {r*100:5.1f}" for nm,r in zip(names,(true>t).mean(0))))
evaluate(X,"raw")
def pca(F,d,alpha):
    mu=F.mean(0); A=F-mu; w,V=np.linalg.eigh(A.T@A/len(A)); idx=np.argsort(w)[::-1][:d]; w,V=w[idx],V[:,idx]
    return A@V/(w)**alpha
for d in [64,128,256,512]:
    for a in [0.5,0.35,0.2]:
        evaluate(pca(U,d,a),f"pca d={d} a={a}")
