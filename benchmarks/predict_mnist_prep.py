"""Writes all local MNIST (every training image present, all 10,000 test images) as
.npy arrays for `widenet predict`: pixels as f64 with unit-norm rows (widenet's loader,
seed 001 Sec. 3.1) and one-hot labels. Standard library only.

    python3 benchmarks/predict_mnist_prep.py shared/data/mnist OUT
    /usr/bin/time -v widenet predict --kernel fc_ntk --depth 3 \
        --x-train OUT/x_train.npy --x-test OUT/x_test.npy \
        --y-train OUT/y_train.npy --y-test OUT/y_test.npy \
        --times 10,100,1000,10000,100000,1000000,inf --path krylov --tol 1e-5 \
        --top-k 50 --progress --out OUT/pred
"""
import array
import gzip
import math
import os
import struct
import sys

D = sys.argv[1].rstrip("/") + "/"
OUT = sys.argv[2]
os.makedirs(OUT, exist_ok=True)
def npy(path, shape, data):
    hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % (", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    hdr = hdr + " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(array.array("d", data).tobytes())
for split, img, lab in [("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                        ("test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")]:
    b = gzip.open(D + img).read()
    _, n, r, c = struct.unpack(">IIII", b[:16])
    px = b[16:16 + n * r * c]
    out = array.array("d", bytes(8 * n * r * c))
    d = r * c
    for i in range(n):
        row = px[i * d:(i + 1) * d]
        s = math.sqrt(sum(v * v for v in row))
        for j, v in enumerate(row):
            if v:
                out[i * d + j] = v / s
    npy(os.path.join(OUT, f"x_{split}.npy"), (n, d), out)
    lb = gzip.open(D + lab).read()[8:8 + n]
    y = array.array("d", bytes(8 * n * 10))
    for i, l in enumerate(lb):
        y[i * 10 + l] = 1.0
    npy(os.path.join(OUT, f"y_{split}.npy"), (n, 10), y)
    print(split, n, d)
