"""``python -m motionlab.bench`` (``make bench``): every benchmark module's ``main()`` in turn; each
writes experiments/benchmarks/<name>/ with the machine and the command. The modules with a make
target of their own (a GPU, or an hour of CPU) are left to it."""

import importlib
import pkgutil

import motionlab.bench

OWN_TARGET = {"gpu_smoke": "make gpu-smoke", "paper_scale": "make estimate-paper-scale"}

for module in pkgutil.iter_modules(motionlab.bench.__path__):
    if module.name in OWN_TARGET:
        print(f"== benchmark {module.name}: run by `{OWN_TARGET[module.name]}`", flush=True)
    elif not module.name.startswith("_"):
        print(f"== benchmark {module.name}", flush=True)
        importlib.import_module(f"motionlab.bench.{module.name}").main()
