#!/usr/bin/env python3
"""Mutation check of the hand-written backward: flips a sign in each backward kernel in turn
(embedding, RMSNorm dx/dw, linear dx/dW, RoPE, attention dV/dS/dQ/dK, SwiGLU, the residual
sums) and confirms that the gradient tests (FD against the Double reference, autograd) fail.

Works on a copy: a minimal package of Linalg + Transformer + TransformerTests in a temporary
folder, so the working tree is never modified. Takes a few minutes (one incremental release
build per mutation). Usage: python3 scripts/backward_mutation_check.py
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PACKAGE = """// swift-tools-version: 6.0
import PackageDescription
let package = Package(name: "mutation", targets: [
  .systemLibrary(name: "CLapacke", path: "Sources/CLapacke"),
  .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas"),
  .target(name: "Linalg", dependencies: ["COpenBLAS", "CLapacke"]),
  .target(name: "Transformer", dependencies: ["COpenBLAS", "Linalg"]),
  .testTarget(name: "TransformerTests", dependencies: ["Transformer", "Linalg"], resources: [.copy("Fixtures")]),
])
"""
BUILD = "swift build -c release -Xswiftc -enable-testing --build-tests"
TEST = "swift test -c release -Xswiftc -enable-testing --skip-build --filter GradientTests"

muts = [
 ("Layers.swift", "embedding", "for j in 0..<c { row[j] += g[j] }", "for j in 0..<c { row[j] -= g[j] }"),
 ("Layers.swift", "rmsnorm dw", "dw[j] += dyi[j] * xhat", "dw[j] -= dyi[j] * xhat"),
 ("Layers.swift", "rmsnorm dx (accumulate)", "for j in 0..<width { dxi[j] += r * (w[j] * dyi[j] - xi[j] * r * m) }", "for j in 0..<width { dxi[j] += r * (w[j] * dyi[j] + xi[j] * r * m) }"),
 ("Layers.swift", "rmsnorm dx (write)", "for j in 0..<width { dxi[j] = r * (w[j] * dyi[j] - xi[j] * r * m) }", "for j in 0..<width { dxi[j] = r * (w[j] * dyi[j] + xi[j] * r * m) }"),
 ("Layers.swift", "linear dW", "sgemm(transA: true, transB: false, m: outDim, n: inDim, k: n, alpha: 1,", "sgemm(transA: true, transB: false, m: outDim, n: inDim, k: n, alpha: -1,"),
 ("Layers.swift", "linear dx", "sgemm(transA: false, transB: false, m: n, n: inDim, k: outDim, alpha: 1,", "sgemm(transA: false, transB: false, m: n, n: inDim, k: outDim, alpha: -1,"),
 ("Layers.swift", "rope", "v[i] = g1 * cs[i] + g2 * sn[i]", "v[i] = g1 * cs[i] - g2 * sn[i]"),
 ("Layers.swift", "attention dV", "sgemm(transA: true, transB: false, m: t, n: d, k: t, alpha: 1, a: p, lda: t,", "sgemm(transA: true, transB: false, m: t, n: d, k: t, alpha: -1, a: p, lda: t,"),
 ("Layers.swift", "attention softmax dS", "dr[j] = pr[j] * (dr[j] - dot)", "dr[j] = pr[j] * (dr[j] + dot)"),
 ("Layers.swift", "attention dQ", "sgemm(transA: false, transB: false, m: t, n: d, k: t, alpha: scale, a: ds,", "sgemm(transA: false, transB: false, m: t, n: d, k: t, alpha: -scale, a: ds,"),
 ("Layers.swift", "attention dK", "sgemm(transA: true, transB: false, m: t, n: d, k: t, alpha: scale, a: ds,", "sgemm(transA: true, transB: false, m: t, n: d, k: t, alpha: -scale, a: ds,"),
 ("Layers.swift", "swiglu dgate", "s * (1 + g * (1 - s))", "s * (1 - g * (1 - s))"),
 ("Layers.swift", "swiglu dup", "dup[i] = dout[i] * g * s", "dup[i] = -dout[i] * g * s"),
 ("Model.swift", "residual (MLP block)", "rstd: a.ln2Rstd.ptr,\n                                rows: N, width: C, accumulate: true)", "rstd: a.ln2Rstd.ptr,\n                                rows: N, width: C, accumulate: false)"),
 ("Model.swift", "residual (attention block)", "rstd: a.ln1Rstd.ptr,\n                                rows: N, width: C, accumulate: true)", "rstd: a.ln1Rstd.ptr,\n                                rows: N, width: C, accumulate: false)"),
]


def run(cmd, cwd):
    return subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True)


def main():
    work = tempfile.mkdtemp(prefix="sftrl-mutation-")
    for d in ["COpenBLAS", "CLapacke", "Linalg", "Transformer"]:
        shutil.copytree(os.path.join(ROOT, "Sources", d), os.path.join(work, "Sources", d))
    shutil.copytree(os.path.join(ROOT, "Tests", "TransformerTests"), os.path.join(work, "Tests", "TransformerTests"))
    open(os.path.join(work, "Package.swift"), "w").write(PACKAGE)
    r = run(BUILD, work)
    if r.returncode != 0 or "failed" in run(TEST, work).stdout:
        print("the unmutated gradient tests do not pass; fix them first", file=sys.stderr)
        sys.exit(1)
    undetected = 0
    for f, name, old, new in muts:
        p = os.path.join(work, "Sources", "Transformer", f)
        src = open(p).read()
        assert src.count(old) == 1, f"mutation '{name}': pattern found {src.count(old)} times in {f}"
        open(p, "w").write(src.replace(old, new))
        try:
            built = run(BUILD, work).returncode == 0
            out = run(TEST, work).stdout if built else ""
            detected = built and "failed" in out
            undetected += not detected
            print(f"{name:32s} {'detected: gradient tests fail' if detected else 'NOT DETECTED'}", flush=True)
        finally:
            open(p, "w").write(src)
    shutil.rmtree(work, ignore_errors=True)
    print(f"{len(muts) - undetected} of {len(muts)} mutations detected")
    sys.exit(1 if undetected else 0)


if __name__ == "__main__":
    main()
