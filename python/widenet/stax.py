"""Architectures as values, and their infinite-width kernels (issue 23).

``widenet.stax`` is neural-tangents' ``stax`` for widenet's compositional kernel
engine: build an architecture from layers, get its NNGP Σ and NTK Θ, computed in
float64 by the Rust engine (one GEMM for the inputs' Gram, then each layer's map
entry by entry; the GIL is released)::

    from widenet import stax
    net = stax.serial(stax.Dense(2.0, 0.1), stax.Relu(), stax.Dense(2.0, 0.1))
    net.spec                 # 'dense(w=2.0, b=0.1), relu, dense(w=2.0, b=0.1)'
    K = net.ntk(x)           # n x n
    K_test = net.nngp(x_test, x)

Every layer and combinator returns a :class:`Net`; its ``spec`` is the engine's
canonical text (the one ``widenet kernel compose --arch`` takes), and
:func:`from_spec` builds the same net back from it (the parser is the Rust one).
The maps, with their sources, are tabled in docs/compose.md. Conventions: inputs
start from Σ⁰(x, x') = xᵀx'/d (``gram="mean"``, neural-tangents') or xᵀx'
(``gram="dot"``, seed 001's H^∞); a dense layer in the NTK parameterization maps

    Σ ↦ W_std²·Σ + b_std²,   Θ ↦ W_std²·Θ + (W_std²·Σ + b_std²)  (trainable),

and an activation φ maps Σ ↦ E[φ(u)φ(v)], Θ ↦ E[φ'(u)φ'(v)]·Θ with (u, v) centred
Gaussian of covariance Σ.

The finite network of the same architecture (:meth:`Net.init`, :meth:`Net.apply`,
:meth:`Net.empirical_ntk`, :meth:`Net.train_gd`) is the library's
(``src/models/composed.rs``), for feed-forward nets.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from . import _widenet

__all__ = [
    "Net", "from_spec", "serial", "parallel", "FanOut", "FanInSum", "FanInProd",
    "FanInConcat", "Dense", "Identity", "Scale", "Relu", "LeakyRelu", "ABRelu", "Abs",
    "Sign", "Erf", "Gelu", "Sin", "Cos", "Exp", "Gaussian", "Activation", "Rnn",
    "rnn_preset",
]

# the spec field each keyword argument fills, for error messages
_KEYWORD = {
    "w": "W_std", "b": "b_std", "param": "parameterization", "a": "A_std",
    "h0": "h0_std", "train_w": "train_W", "train_a": "train_A", "nodes": "nodes",
    "src": "expr",
}


class Net:
    """An architecture (a tree of layers) with its infinite-width kernels.

    Build one with the layer functions of this module or :func:`from_spec`.
    ``spec`` is the canonical text; two nets are equal when their specs are.
    """

    __slots__ = ("_spec", "_one", "_gram", "_seq_len", "_all")

    def __init__(self, spec: str):
        spec, one, gram, seq_len, all_steps = _widenet.compose_spec(spec)
        self._spec, self._one, self._gram, self._seq_len = spec, one, gram, seq_len
        self._all = all_steps

    @property
    def spec(self) -> str:
        """The canonical spec (``from_spec(net.spec) == net``)."""
        return self._spec

    @property
    def gram(self) -> str:
        """The first covariance: ``"mean"`` (xᵀx'/d) or ``"dot"`` (xᵀx')."""
        return self._gram

    @property
    def seq_len(self) -> Optional[int]:
        """The sequence length L of a recurrent net (inputs n x L x d), else None."""
        return self._seq_len

    @property
    def readout_all(self) -> bool:
        """Whether the net outputs every step of a sequence (``Rnn(readout="all")``):
        its kernels are then n x L x n2 x L."""
        return self._all

    def __repr__(self) -> str:
        return f"stax.from_spec({self._spec!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Net) and other._spec == self._spec

    def __hash__(self) -> int:
        return hash(self._spec)

    # ------------------------------------------------------------ kernels
    def kernel(self, x: Any, x2: Any = None, output: str = "ntk") -> np.ndarray:
        """The ``output`` ("ntk" or "nngp") kernel on the rows of ``x`` (n x n), or
        between the rows of ``x`` and ``x2`` (n x n2). ``x`` is n x d, or n x L x d
        sequences for a recurrent net (given to a feed-forward net they are an
        error: flatten them to read each sequence as one vector). A net reading out
        every step (``Rnn(readout="all")``) gives K[i, t, j, u] = K((x_i, step t),
        (x2_j, step u)), shape n x L x n2 x L.

        float64 by default; when every input is float32 the kernel is float32: the
        inputs' Gram is one float32 GEMM (twice as fast), the layer maps run in
        float64 on it and each entry is rounded to float32 once (relative error
        ~1e-7 of the float64 kernel, more for nearly parallel inputs; the cross kernel
        is the float64 one of the same values, rounded)."""
        from . import _arr
        a = _arr(x, "x")
        b = None if x2 is None else _arr(x2, "x2")
        for name, v in (("x", a), ("x2", b)):
            if v is not None and v.ndim not in (2, 3):
                raise ValueError(
                    f"invalid {name}: expected n x d inputs (or n x L x d sequences for "
                    f"a recurrent net), got shape {v.shape}")
        if output not in ("ntk", "nngp"):
            raise ValueError(f"invalid output: {output!r} is neither 'ntk' nor 'nngp'")
        k = _widenet.compose_kernel(self._spec, a, b, output)
        if self._all:
            L = self._seq_len
            k = k.reshape(k.shape[0] // L, L, k.shape[1] // L, L)
        return k

    def quadrature_accuracy(self, x: Any, output: str = "ntk", rows: int = 16
                            ) -> Optional[float]:
        """For a net with expression activations (:func:`Activation`): the largest
        relative change of its ``output`` kernel on the first ``rows`` inputs of ``x``
        when the quadrature nodes double (capped at 400), i.e. the accuracy the
        quadrature reached; None when every activation is a closed form."""
        from . import _arr, _int
        if output not in ("ntk", "nngp"):
            raise ValueError(f"invalid output: {output!r} is neither 'ntk' nor 'nngp'")
        return _widenet.compose_quadrature_accuracy(self._spec, _arr(x, "x"), output,
                                                    _int(rows, "rows", 1))

    def nngp(self, x: Any, x2: Any = None) -> np.ndarray:
        """The NNGP Σ(x, x2) of the network's output (float64; see :meth:`kernel`)."""
        return self.kernel(x, x2, "nngp")

    def ntk(self, x: Any, x2: Any = None) -> np.ndarray:
        """The NTK Θ(x, x2) of the network's output (float64; see :meth:`kernel`)."""
        return self.kernel(x, x2, "ntk")

    # ------------------------------------------------------------ finite network
    # The finite network of the same architecture (src/models/composed.rs): parameters
    # are a list of float64 arrays, each dense layer's weights (out x in) then its bias
    # (when b_std > 0). A recurrent first layer gives W (m x s; M_0 follows as its bias
    # when h0 > 0), then A (m x d; beta follows when b > 0), then its step's dense layers.
    def init(self, seed: int, width: int, d: int) -> List[np.ndarray]:
        """The parameters of the finite network at hidden width ``width`` for inputs
        of dimension ``d`` (per step for a recurrent net), drawn from ``seed`` as the
        parameterization says."""
        from . import _int
        return _widenet.composed_init(self._spec, _int(seed, "seed"),
                                      _int(width, "width", 1), _int(d, "d", 1))

    def apply(self, params: Sequence[np.ndarray], x: Any) -> np.ndarray:
        """The finite network's outputs on the rows of ``x`` (shape (n,); ``x`` as in
        :meth:`kernel`; shape (n, L) for a net reading out every step)."""
        from . import _arr
        f = _widenet.composed_apply(self._spec, list(params), _arr(x, "x"))
        return f.reshape(-1, self._seq_len) if self._all else f

    def empirical_ntk(self, params: Sequence[np.ndarray], x: Any,
                      x2: Any = None) -> np.ndarray:
        """The finite network's NTK J(x)J(x2)ᵀ at ``params`` (J: the Jacobian of the
        outputs in the trainable parameters); it tends to :meth:`ntk` as the width
        grows (shape as :meth:`kernel`'s)."""
        from . import _arr
        b = None if x2 is None else _arr(x2, "x2")
        k = _widenet.composed_empirical_ntk(self._spec, list(params), _arr(x, "x"), b)
        if self._all:
            L = self._seq_len
            k = k.reshape(k.shape[0] // L, L, k.shape[1] // L, L)
        return k

    def train_gd(self, params: Sequence[np.ndarray], x: Any, y: Any, *, eta: float,
                 steps: int) -> Tuple[List[np.ndarray], np.ndarray]:
        """Full-batch gradient descent on ½‖f(x) − y‖² from ``params`` for ``steps``
        steps of size ``eta``: the final parameters and the loss at every step
        (``steps + 1`` values), so that seed 001's question (does gradient descent
        follow the kernel's prediction?) can be asked of this architecture. For a net
        reading out every step, ``y`` has shape (n, L)."""
        from . import _arr, _int
        yy = _arr(y, "y")
        if self._all and yy.ndim == 2:
            yy = yy.reshape(-1)
        return _widenet.composed_train_gd(self._spec, list(params), _arr(x, "x"),
                                          _arr(yy, "y", 1), eta=float(eta),
                                          steps=_int(steps, "steps"))


def _build(spec: str, call: str) -> Net:
    """The net of `spec`, or ValueError naming the Python call and keyword."""
    try:
        return Net(spec)
    except ValueError as e:
        msg = str(e)
        for field, kw in _KEYWORD.items():
            if f"field '{field}'" in msg:
                msg += f" (keyword argument {kw})"
                break
        raise ValueError(f"{call}: {msg}") from None


def _num(v: Any, name: str, call: str) -> str:
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{call}: invalid {name}: expected a number, got {v!r}")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{call}: invalid {name}: expected a number, got {v!r}") from None
    return repr(f)


def _flag(v: Any, name: str, call: str) -> str:
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{call}: invalid {name}: expected True or False, got {v!r}")
    return "true" if v else "false"


def _layer(name: str, call: str, **fields: Any) -> Net:
    """A parametrized layer: its spec from the fields given (numbers)."""
    args = ", ".join(f"{k}={_num(v, k, call)}" for k, v in fields.items())
    return _build(f"{name}({args})" if args else name, call)


def _one(n: Any, where: str) -> str:
    if not isinstance(n, Net):
        raise ValueError(f"{where}: expected a stax layer or net, got {n!r}")
    if n._gram != "mean":
        raise ValueError(
            f"{where}: a net with gram={n._gram!r} nested in another; only the "
            "outermost net sets gram (serial(..., gram=...))")
    return n._one


def from_spec(spec: str) -> Net:
    """The net of a spec string (the syntax of ``widenet kernel compose --arch``,
    docs/compose.md); ``from_spec(net.spec) == net``. A bad spec raises ValueError
    naming the layer and the field."""
    if not isinstance(spec, str):
        raise ValueError(f"invalid spec: expected a string, got {spec!r}")
    return Net(spec)


# ---------------------------------------------------------------- markers (nt style)
class FanOut:
    """neural-tangents' ``FanOut(n)``: in :func:`serial`, ``FanOut(n), parallel(b1,
    …, bn), FanInSum()`` is the branches on the same input joined by the fan-in."""

    def __init__(self, num: int):
        if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
            raise ValueError(f"FanOut: invalid num: expected an integer >= 1, got {num!r}")
        self.num = int(num)

    def __repr__(self) -> str:
        return f"stax.FanOut({self.num})"


class _Branches:
    """``parallel(...)``'s branches, waiting for their fan-in inside :func:`serial`."""

    def __init__(self, branches: Sequence[Net]):
        self.branches = list(branches)

    def __repr__(self) -> str:
        return f"stax.parallel({', '.join(repr(b) for b in self.branches)})"


class _FanIn:
    def __init__(self, kind: str, scales: Optional[Sequence[float]]):
        self.kind, self.scales = kind, scales

    def __repr__(self) -> str:
        return f"stax.FanIn{self.kind.capitalize()}()"

    def join(self, branches: Sequence[Net], call: str) -> Net:
        if not branches:
            raise ValueError(f"{call}: needs at least one branch")
        parts = [_one(b, f"{call}: branch {i + 1}") for i, b in enumerate(branches)]
        if self.scales is not None:
            sc = list(self.scales)
            if len(sc) != len(parts):
                raise ValueError(
                    f"{call}: invalid scales: {len(sc)} scales for {len(parts)} branches")
            parts = [p if float(a) == 1.0 else
                     f"serial({p}, scale({_num(a, f'scales[{i}]', call)}))"
                     for i, (p, a) in enumerate(zip(parts, sc))]
        return _build(f"{self.kind}({', '.join(parts)})", call)


def _fanin(kind: str, branches: Sequence[Net], scales: Optional[Sequence[float]]):
    f = _FanIn(kind, scales)
    if not branches:
        return f  # neural-tangents style, joined inside serial
    return f.join(branches, f"FanIn{kind.capitalize()}")


def FanInSum(*branches: Net, scales: Optional[Sequence[float]] = None):
    """The sum of the branches' outputs, each multiplied by its scale (seed 003's
    x + α·block is ``FanInSum(Identity(), block, scales=[1, α])``): kernels add
    (Σ = Σᵢ αᵢ²Σᵢ, Θ = Σᵢ αᵢ²Θᵢ). Every branch must end in a dense layer (or be the
    identity of one's output), so that the branches are independent. Without
    branches, a neural-tangents marker for :func:`serial` (after FanOut, parallel)."""
    return _fanin("sum", branches, scales)


def FanInProd(*branches: Net):
    """The elementwise product of the branches' outputs (Σ = ΠᵢΣᵢ, Θ = Σᵢ Θᵢ Π_{j≠i} Σⱼ)."""
    return _fanin("prod", branches, None)


def FanInConcat(*branches: Net):
    """The concatenation of the branches: kernels average, weighted by the branches'
    widths as neural-tangents' ``FanInConcat`` does (widths all fixed by
    ``Dense(width=N)``, or all the network width). An activation may not follow it
    directly (its blocks have different covariances): put a Dense layer between."""
    return _fanin("concat", branches, None)


def parallel(*branches: Net):
    """Branches on the same input; join them with FanInSum/FanInProd/FanInConcat in
    :func:`serial` (neural-tangents' ``serial(FanOut(n), parallel(...), FanInSum())``)."""
    return _Branches(branches)


def serial(*layers: Any, gram: str = "mean") -> Net:
    """The layers one after the other. ``gram`` (outermost net only): ``"mean"``
    starts from Σ⁰ = xᵀx'/d (neural-tangents), ``"dot"`` from xᵀx'."""
    if gram not in ("mean", "dot"):
        raise ValueError(f"serial: invalid gram: {gram!r} is neither 'mean' nor 'dot'")
    parts: List[str] = []
    i = 0
    items = list(layers)
    while i < len(items):
        it = items[i]
        where = f"serial: layer {i + 1}"
        if isinstance(it, FanOut):
            it = items[i + 1] if i + 1 < len(items) else None
            if not isinstance(it, _Branches) or len(it.branches) != items[i].num:
                raise ValueError(
                    f"{where} is FanOut({items[i].num}) but layer {i + 2} is not a "
                    f"parallel(...) of {items[i].num} branches")
            i += 1
        if isinstance(it, _Branches):
            fan = items[i + 1] if i + 1 < len(items) else None
            if not isinstance(fan, _FanIn):
                raise ValueError(
                    f"serial: layer {i + 1} is a parallel(...) not followed by "
                    "FanInSum(), FanInProd() or FanInConcat()")
            parts.append(fan.join(it.branches, f"serial: layer {i + 2}")._one)
            i += 2
            continue
        if isinstance(it, (_FanIn, FanOut)):
            raise ValueError(f"{where}: {it!r} without a parallel(...) before it")
        parts.append(_one(it, where))
        i += 1
    if not parts:
        raise ValueError("serial: needs at least one layer")
    body = f"serial({', '.join(parts)})" if len(parts) > 1 else parts[0]
    return _build(body if gram == "mean" else f"gram=dot; {body}", "serial")


# ---------------------------------------------------------------- layers
def Dense(W_std: float = 1.0, b_std: Optional[float] = 0.0, parameterization: str = "ntk",
          trainable: bool = True, width: Optional[int] = None) -> Net:
    """A fully connected layer. NTK parameterization: f = W_std·W h/√n + b_std·b with
    W, b ~ N(0, 1); standard: f = W h + b, W ~ N(0, W_std²/n), b ~ N(0, b_std²), whose
    NTK depends on the input width n (give the previous dense layer a ``width``).
    ``trainable=False`` leaves its parameters out of the NTK (seed 001's H^∞ trains
    only the hidden layer). ``b_std=None`` is 0 (no bias), as in neural-tangents."""
    call = "stax.Dense"
    fields = {}
    if float(_num(W_std, "W_std", call)) != 1.0:
        fields["w"] = _num(W_std, "W_std", call)
    if b_std is not None and float(_num(b_std, "b_std", call)) != 0.0:
        fields["b"] = _num(b_std, "b_std", call)
    if parameterization not in ("ntk", "standard"):
        raise ValueError(
            f"{call}: invalid parameterization: {parameterization!r} is neither 'ntk' "
            "nor 'standard'")
    if parameterization == "standard":
        fields["param"] = "standard"
    if not _flag(trainable, "trainable", call) == "true":
        fields["trainable"] = "false"
    if width is not None:
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
            raise ValueError(f"{call}: invalid width: expected an integer >= 1, got {width!r}")
        fields["width"] = str(int(width))
    args = ", ".join(f"{k}={v}" for k, v in fields.items())
    return _build(f"dense({args})" if args else "dense", call)


def Identity() -> Net:
    """The identity (a skip branch)."""
    return _build("identity", "stax.Identity")


def Scale(alpha: float) -> Net:
    """Multiplies the output by α (Σ, Θ by α²)."""
    return _build(f"scale({_num(alpha, 'alpha', 'stax.Scale')})", "stax.Scale")


def Relu() -> Net:
    """max(z, 0) (Cho & Saul's arc-cosine kernel of degree 1)."""
    return _build("relu", "stax.Relu")


def LeakyRelu(alpha: float = 0.01) -> Net:
    """z for z > 0, alpha·z otherwise."""
    return _layer("leaky_relu", "stax.LeakyRelu", alpha=alpha)


def ABRelu(a: float, b: float) -> Net:
    """a·min(z, 0) + b·max(z, 0)."""
    return _layer("abrelu", "stax.ABRelu", a=a, b=b)


def Abs() -> Net:
    """|z|."""
    return _build("abs", "stax.Abs")


def Sign() -> Net:
    """sign(z) (the step; its derivative is 0 almost everywhere)."""
    return _build("sign", "stax.Sign")


def Erf(a: float = 1.0, b: float = 1.0, c: float = 0.0) -> Net:
    """a·erf(b z) + c."""
    return _layer("erf", "stax.Erf", a=a, b=b, c=c)


def Gelu() -> Net:
    """z·Φ(z) (exact, not the tanh approximation)."""
    return _build("gelu", "stax.Gelu")


def Sin(a: float = 1.0, b: float = 1.0, c: float = 0.0) -> Net:
    """a·sin(b z + c)."""
    return _layer("sin", "stax.Sin", a=a, b=b, c=c)


def Cos(a: float = 1.0, b: float = 1.0, c: float = 0.0) -> Net:
    """a·cos(b z + c)."""
    return _layer("cos", "stax.Cos", a=a, b=b, c=c)


def Exp(a: float = 1.0, b: float = 1.0) -> Net:
    """a·exp(b z)."""
    return _layer("exp", "stax.Exp", a=a, b=b)


def Gaussian(a: float = 1.0, b: float = -1.0) -> Net:
    """a·exp(b z²)."""
    return _layer("gaussian", "stax.Gaussian", a=a, b=b)


def Activation(expr: str, nodes: int = 48) -> Net:
    """Any activation written as an expression in z (``"tanh(z)"``, ``"z^2 + sin(z)"``),
    its dual maps by Gauss–Hermite quadrature with ``nodes`` nodes per axis (2..400).
    An expression that does not parse, or is not differentiable, raises ValueError."""
    call = "stax.Activation"
    if not isinstance(expr, str):
        raise ValueError(f"{call}: invalid expr: expected a string, got {expr!r}")
    if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)):
        raise ValueError(f"{call}: invalid nodes: expected an integer, got {nodes!r}")
    if "'" in expr and '"' in expr:
        raise ValueError(f"{call}: invalid expr: {expr!r} holds both kinds of quote")
    q = '"' if "'" in expr else "'"
    return _build(f"expr({q}{expr}{q}, nodes={int(nodes)})", call)


def Rnn(step: Net, len: int, W_std: float = 1.0, A_std: float = 1.0, b_std: float = 0.0,
        h0_std: float = 0.0, train_W: bool = True, train_A: bool = True,
        train_b: bool = True, readout: str = "last") -> Net:
    """A recurrent layer (the net's first layer; its inputs are n x len x d sequences):
    g_t = W_std·W h_{t−1}/√m + A_std·A x_t/√d + b_std·β, h_t = step(g_t), t = 1..len,
    the output h_len. ``h0_std=0`` starts from h_0 = 0 (seed 002), ``h0_std > 0``
    from h_0 = step(M_0), M_0 ~ N(0, h0_std²), the same for every input (seed 004).
    ``train_W``/``train_A``/``train_b`` choose the weights whose gradients enter the
    NTK. ``readout="last"`` outputs h_len; ``"all"`` every h_t (sequence labelling;
    the kernels are then over (sequence, step) pairs, n x L x n2 x L). Its kernels
    follow seed 004 eq. 25 (forward) and eq. 28 (backward), the cross-time NTK
    terms of paths of unequal length through W vanishing (Theorem 6)."""
    call = "stax.Rnn"
    s = _one(step, f"{call}: step")
    if isinstance(len, bool) or not isinstance(len, (int, np.integer)) or len < 1:
        raise ValueError(f"{call}: invalid len: expected an integer >= 1, got {len!r}")
    fields = [f"len={int(len)}"]
    for k, v, d in (("w", W_std, 1.0), ("a", A_std, 1.0), ("b", b_std, 0.0),
                    ("h0", h0_std, 0.0)):
        t = _num(v, _KEYWORD[k], call)
        if float(t) != d:
            fields.append(f"{k}={t}")
    for k, v in (("train_w", train_W), ("train_a", train_A), ("train_b", train_b)):
        if _flag(v, _KEYWORD.get(k, k), call) == "false":
            fields.append(f"{k}=false")
    if readout not in ("last", "all"):
        raise ValueError(f"{call}: invalid readout: {readout!r} is neither 'last' nor 'all'")
    if readout == "all":
        fields.append("readout=all")
    return _build(f"rnn({s}, {', '.join(fields)})", call)


def rnn_preset(preset: str, len: int) -> Net:
    """``widenet.rnn_ntk``'s infinite-width presets ("elman": seed 002's h_0 = 0,
    W, A ~ N(0, 2/m); "wang": seed 004 eq. 14's h_0 = relu(M_0), A ~ N(0, 2/(L³m)))
    as a composition whose NTK is ``rnn_ntk(x, preset)``'s infinite-width kernel:
    ``gram=dot; rnn(relu, len=L, w=√2, a=…, h0=…, train_a=false, train_b=false),
    dense(w=√½, trainable=false)`` (only W trained; the readout's √½ converts the NTK
    parameterization to rnn_ntk's normalization ⟨∇_W f, ∇_W f'⟩/(m σ_B²))."""
    return Net(_widenet.compose_rnn_preset(str(preset), int(len)))
