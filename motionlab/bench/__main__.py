"""``python -m motionlab.bench`` (``make bench``): every benchmark module's ``main()`` in turn; each
writes experiments/benchmarks/<name>/ with the machine and the command."""

import importlib
import pkgutil

import motionlab.bench

for module in pkgutil.iter_modules(motionlab.bench.__path__):
    if not module.name.startswith("_"):
        print(f"== benchmark {module.name}", flush=True)
        importlib.import_module(f"motionlab.bench.{module.name}").main()
