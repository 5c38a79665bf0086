"""Peer of benchmarks/sampled_bench.sh: the same GRPO estimator as `sftrl flow --schedule grpo:N`
(tabular instance; group advantages with unbiased std + 1e-4; one inner step, so the ratio is 1 and
the clip inactive; k3 KL to the reference with coefficient beta; grpo aggregation, which is the mean
over the group for one-token responses; SGD), vectorised over seeds with numpy, and a Monte Carlo
estimate of E[Δθ] and tr Cov[Δθ] as `sftrl update --monte-carlo N` computes it.

usage: python3 grpo_numpy.py INSTANCE.json SEEDS STEPS G ETA MC_DRAWS  -> prints two timings (s)
"""
import json, sys, time
import numpy as np

inst = json.load(open(sys.argv[1]))
seeds, steps, G, eta, draws = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
beta = inst["beta"]
P = inst["prompts"]
q = np.array([p["weight"] for p in P]); q = q / q.sum()
R = np.array([p["reward"] for p in P])            # (X, N)
logref = np.log(np.array([p["reference"] for p in P]))
D = np.array([p["data"] for p in P])
start = np.log(np.array([p["start"] for p in P])); start -= start.mean(1, keepdims=True)
X, N = R.shape
rng = np.random.default_rng(0)

def log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))

def grpo_direction(z, u):
    """z: (S, X, N) logits; u: (S, X, G) uniforms. Returns the loss gradient (S, X, N)."""
    lp = log_softmax(z); p = np.exp(lp)
    cdf = np.cumsum(p, -1)
    y = (u[..., None] * cdf[..., -1:, None].swapaxes(-1, -2) >= cdf[..., None, :]).sum(-1)   # (S, X, G)
    y = np.minimum(y, N - 1)
    r = np.take_along_axis(np.broadcast_to(R, z.shape), y, -1)
    a = (r - r.mean(-1, keepdims=True)) / (r.std(-1, ddof=1, keepdims=True) + 1e-4)
    lpy = np.take_along_axis(lp, y, -1); lry = np.take_along_axis(np.broadcast_to(logref, z.shape), y, -1)
    c = -a + (beta * (1 - np.exp(lry - lpy)) if beta > 0 else 0)         # dℓ/dlogp per sample
    onehot_sum = np.einsum("sxg,sxgn->sxn", c, (y[..., None] == np.arange(N)).astype(z.dtype))
    g = onehot_sum - c.sum(-1, keepdims=True) * p
    return g * (q[None, :, None] / G)

t = time.perf_counter()
z = np.broadcast_to(start, (seeds, X, N)).copy()
for _ in range(steps):
    z -= eta * grpo_direction(z, rng.random((seeds, X, G)))
lp = log_softmax(z)
sft_loss = -(q[None, :, None] * D[None] * lp).sum((1, 2))
t_flow = time.perf_counter() - t

t = time.perf_counter()
chunk = 1000
mean = np.zeros((X, N)); second = 0.0
done = 0
while done < draws:
    k = min(chunk, draws - done)
    d = -eta * grpo_direction(np.broadcast_to(start, (k, X, N)).copy(), rng.random((k, X, G)))
    mean += d.sum(0); second += float((d * d).sum()); done += k
mean /= draws; trace = second / draws - float((mean * mean).sum())
t_update = time.perf_counter() - t
print(f"{t_flow:.4f} {t_update:.4f} {sft_loss.mean():.6f} {trace:.6e}")
