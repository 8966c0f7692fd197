"""The type stub `_widenet.pyi` against the native module it describes: every function of
the extension has a stub and every stub a function, with the same parameters in the same
order and the same defaults (issue 24 item 2: the `.pyi` tested against the runtime)."""

import ast
import inspect
from pathlib import Path

import widenet._widenet as native

STUB = Path(__file__).resolve().parents[1] / "widenet" / "_widenet.pyi"


def _stub_functions():
    tree = ast.parse(STUB.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            a = node.args
            params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
            pos = a.posonlyargs + a.args
            defaults = {p.arg: d for p, d in zip(pos[len(pos) - len(a.defaults):], a.defaults)}
            defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
            out[node.name] = (params, defaults)
    return out


def _runtime_functions():
    out = {}
    for name in dir(native):
        f = getattr(native, name)
        if name.startswith("__") or isinstance(f, type) or not callable(f):
            continue
        sig = inspect.signature(f)
        params = [p.name for p in sig.parameters.values()]
        defaults = {p.name: p.default for p in sig.parameters.values()
                    if p.default is not inspect.Parameter.empty}
        out[name] = (params, defaults)
    return out


def test_every_native_function_has_a_stub_with_its_parameters_and_defaults():
    stub, runtime = _stub_functions(), _runtime_functions()
    assert sorted(set(runtime) - set(stub)) == [], "functions without a stub"
    assert sorted(set(stub) - set(runtime)) == [], "stubs of functions that do not exist"
    for name, (params, defaults) in runtime.items():
        sparams, sdefaults = stub[name]
        assert sparams == params, f"{name}: stub {sparams} vs runtime {params}"
        assert sorted(sdefaults) == sorted(defaults), f"{name}: defaulted parameters differ"
        for p, d in sdefaults.items():
            # literal defaults must agree; an elided `...` default (either side) only
            # says there is one
            if (isinstance(d, ast.Constant) and d.value is not Ellipsis
                    and defaults[p] is not Ellipsis):
                assert d.value == defaults[p], f"{name}({p}=): stub {d.value!r}, runtime {defaults[p]!r}"
