"""Run a CUDA kernel's source on the CPU: one loop pass per GPU thread.

minigan's custom GPU kernels are small specs (:class:`KernelSpec`): a name,
CuPy ``ElementwiseKernel`` parameter lists, and a body of CUDA C++ that
computes element ``i``. On a GPU, CuPy compiles the body with NVRTC and runs
it once per thread. Here the *same text* is wrapped in a C++ program::

    for (long long i = 0; i < n; ++i) { BODY }

compiled with the system C++ compiler (``g++``, with the undefined-behaviour
sanitizer, which stops the program at a signed overflow or a bad shift) and
run in a child process on NumPy arrays. Every ``raw`` array is a
bounds-checked view: an index outside the array stops the program with a
message naming the kernel, the thread, the array and the index, which
:func:`run` raises as :class:`KernelFault`. C's ``/`` and ``%`` truncate
toward zero (``-1 / 2 == 0``, ``-1 % 2 == -1``) on the CPU exactly as on the
GPU, so index arithmetic that meets negative numbers behaves here as it will
there.

What this cannot show: that NVRTC accepts the source (it is plain C++ with
CUDA's math functions, which both accept), races between threads (the
kernels are gathers: each thread writes only its own element), and speed.

Parameters follow CuPy's syntax: ``raw T x`` (an array of the kernel's type
``T``, float or double by the arrays bound to it), ``raw float64 m`` (an array
of a fixed type), ``T slope``, ``int32 N``, ``float64 lr``, ``bool flag``
(scalars). The output arrays are written back after the run (so in-place
updates behave as on the GPU); an input array that the kernel changed is an
error.
"""

import dataclasses
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np

CTYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long",
          "uint64": "unsigned long long", "bool": "bool", "uint8": "unsigned char"}
FLAGS = ["-std=c++17", "-O1", "-fsanitize=undefined", "-fno-sanitize-recover=undefined",
         "-Wall", "-Wno-unused-variable", "-Wno-unused-but-set-variable"]


@dataclasses.dataclass(frozen=True)
class KernelSpec:
    """A custom kernel as data: CuPy builds it, the host harness runs it."""
    name: str
    in_params: str
    out_params: str
    body: str

    def params(self):
        """``[(name, type, is_raw), ...]`` in call order (inputs, then outputs)."""
        out = []
        for text in (self.in_params, self.out_params):
            for p in filter(None, (s.strip() for s in text.split(","))):
                words = p.split()
                raw = words[0] == "raw"
                if raw:
                    words = words[1:]
                if len(words) != 2:
                    raise ValueError(f"kernel {self.name}: cannot read parameter {p!r}")
                if not raw:
                    if words[0] not in CTYPES and words[0] != "T":
                        raise ValueError(f"kernel {self.name}: unknown type in {p!r}")
                out.append((words[1], words[0], raw))
        return out


class KernelFault(RuntimeError):
    """The kernel indexed outside an array, or did something undefined."""


class CompilerMissing(RuntimeError):
    """No C++ compiler to run CUDA kernel sources on the CPU."""


def compiler():
    """The C++ compiler used (``$CXX`` or g++), or raise :class:`CompilerMissing`."""
    cxx = os.environ.get("CXX", "g++")
    path = shutil.which(cxx)
    if path is None:
        raise CompilerMissing(f"running CUDA kernel sources on the CPU needs a C++ compiler; "
                              f"{cxx} was not found (install g++, or set CXX)")
    return path


def source(spec, dtype):
    """The C++ program that runs ``spec`` with ``T`` = ``dtype``."""
    params = spec.params()
    decl, save = [], []
    for k, (name, typ, raw) in enumerate(params):
        ctype = "T" if typ == "T" else CTYPES[typ]
        if raw:
            decl.append(f"    Raw<{ctype}> {name} = load<{ctype}>(dir, \"{name}\", "
                        f"atoll(argv[{3 + k}]));")
            save.append(f"    store(dir, \"{name}\", {name});")
        else:
            conv = ("strtod" if ctype in ("float", "double", "T") else
                    "strtoull" if ctype.startswith("unsigned") else "strtoll")
            arg = f"argv[{3 + k}]" + (", nullptr" if conv == "strtod" else ", nullptr, 10")
            decl.append(f"    const {ctype} {name} = ({ctype}){conv}({arg});")
    ctype_t = CTYPES[np.dtype(dtype).name]
    return f"""// kernel {spec.name}, T = {ctype_t}: one pass of the loop per GPU thread
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <algorithm>
using namespace std;
typedef {ctype_t} T;
static long long g_thread = -1;

template <typename V> struct Raw {{      // CuPy's raw array: flat, C order; checked here
    V* data; long long n; const char* name;
    V& operator[](long long k) const {{
        if (k < 0 || k >= n) {{
            fprintf(stderr, "kernel {spec.name}: thread %lld indexes %s[%lld], outside its "
                            "%lld elements\\n", g_thread, name, k, n);
            exit(3);
        }}
        return data[k];
    }}
    long long size() const {{ return n; }}
}};

template <typename V> Raw<V> load(const char* dir, const char* name, long long n) {{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    V* data = (V*)malloc(sizeof(V) * (n > 0 ? n : 1));
    FILE* f = fopen(path, "rb");
    if (!f || fread(data, sizeof(V), n, f) != (size_t)n) {{ perror(path); exit(4); }}
    fclose(f);
    return Raw<V>{{data, n, name}};
}}

template <typename V> void store(const char* dir, const char* name, const Raw<V>& a) {{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE* f = fopen(path, "wb");
    if (!f || fwrite(a.data, sizeof(V), a.n, f) != (size_t)a.n) {{ perror(path); exit(4); }}
    fclose(f);
}}

int main(int argc, char** argv) {{
    const char* dir = argv[1];
    const long long n_threads = atoll(argv[2]);
{chr(10).join(decl)}
    for (long long i = 0; i < n_threads; ++i) {{
        g_thread = i;
        {{
{spec.body}
        }}
    }}
{chr(10).join(save)}
    return 0;
}}
"""


_built = {}


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minigan", "cuda_host")


def build(spec, dtype):
    """Compile ``spec`` for ``dtype`` (cached by the source's hash); the program's path."""
    text = source(spec, dtype)
    cxx = compiler()
    key = hashlib.sha256((text + cxx + " ".join(FLAGS)).encode()).hexdigest()[:20]
    exe = _built.get(key)
    if exe and os.path.exists(exe):
        return exe
    folder = cache_dir()
    os.makedirs(folder, exist_ok=True)
    exe = os.path.join(folder, f"{spec.name}-{np.dtype(dtype).name}-{key}")
    if not os.path.exists(exe):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "kernel.cpp")
            with open(src, "w") as f:
                f.write(text)
            out = subprocess.run([cxx, *FLAGS, src, "-o", os.path.join(tmp, "k")],
                                 capture_output=True, text=True)
            if out.returncode:
                raise RuntimeError(f"kernel {spec.name}: the C++ compiler refused its source:\n"
                                   f"{out.stderr}")
            os.replace(os.path.join(tmp, "k"), exe)   # atomic: concurrent builds agree
    _built[key] = exe
    return exe


def kernel_dtype(spec, args):
    """The type ``T`` stands for: the dtype of the arrays bound to ``T``."""
    dtypes = {np.dtype(a.dtype) for (name, typ, raw), a in zip(spec.params(), args)
              if raw and typ == "T"}
    if len(dtypes) != 1:
        raise TypeError(f"kernel {spec.name}: the arrays of type T must share one float "
                        f"dtype, got {sorted(str(d) for d in dtypes)}")
    dtype = dtypes.pop()
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"kernel {spec.name}: T must be float32 or float64, got {dtype}")
    return dtype


def run(spec, args, size):
    """Run ``spec`` with ``size`` threads on ``args`` (NumPy arrays for the raw
    parameters, numbers for the scalars, in the order of the parameters). Raw
    arrays are updated in place. Raises :class:`KernelFault` for an index
    outside an array or undefined behaviour."""
    params = spec.params()
    if len(args) != len(params):
        raise TypeError(f"kernel {spec.name}: expected {len(params)} arguments, got "
                        f"{len(args)}")
    dtype = kernel_dtype(spec, args)
    exe = build(spec, dtype)
    with tempfile.TemporaryDirectory() as tmp:
        argv = [exe, tmp, str(int(size))]
        for (name, typ, raw), a in zip(params, args):
            if raw:
                want = dtype if typ == "T" else np.dtype(typ)
                if not isinstance(a, np.ndarray) or a.dtype != want:
                    raise TypeError(f"kernel {spec.name}: {name} must be a {want} array, got "
                                    f"{getattr(a, 'dtype', type(a).__name__)}")
                if not a.flags.c_contiguous:
                    raise TypeError(f"kernel {spec.name}: {name} must be C-contiguous (raw "
                                    f"arrays are indexed flat)")
                np.asarray(a).tofile(os.path.join(tmp, name + ".bin"))
                argv.append(str(a.size))
            else:
                is_float = typ in ("T", "float32", "float64")
                argv.append(float(a).hex() if is_float else str(int(a)))
        out = subprocess.run(argv, capture_output=True, text=True)
        if out.returncode:
            raise KernelFault(out.stderr.strip() or f"kernel {spec.name} failed "
                                                    f"(exit status {out.returncode})")
        n_in = len(KernelSpec(spec.name, spec.in_params, "", "").params())
        for k, ((name, typ, raw), a) in enumerate(zip(params, args)):
            if raw:
                back = np.fromfile(os.path.join(tmp, name + ".bin"), dtype=a.dtype)
                if k >= n_in:
                    np.asarray(a).reshape(-1)[...] = back
                elif not np.array_equal(back, np.asarray(a).reshape(-1), equal_nan=True):
                    raise KernelFault(f"kernel {spec.name} wrote into its input {name}; "
                                      f"arrays a kernel writes belong in its out_params")
