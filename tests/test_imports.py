"""Imports run one way: the base layer (``motionlab.core``) imports nothing of motionlab; ``data``,
``models``, ``losses`` and ``flow`` import only the base layer and the packages listed below them;
nothing of theirs imports the stages, the pipeline, training, config, eval or any other layer above.
Every ``import`` in the source is read with ``ast`` (also those inside functions), so an upward
import fails here before it becomes a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import motionlab

PACKAGE = Path(motionlab.__file__).parent
# package -> the motionlab packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "data": {"core"},
    "models": {"core"},
    "losses": {"core", "models"},  # warping (models/warp.py) is the photometric loss's primitive
    "flow": {"core", "data", "models", "losses"},  # estimators wrap models and read videos
}

def _console_scripts() -> set[str]:
    """Modules behind console scripts (``motionlab-check-data``, ...): applications that compose
    configs, the top layer wherever their file sits."""
    text = (PACKAGE.parent / "pyproject.toml").read_text().split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r'=\s*"(motionlab[\w.]*):\w+"', text))


def motionlab_imports(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every ``motionlab.*`` module ``path`` imports (absolute and relative imports, at any depth)."""
    module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return {name for name in found if name == "motionlab" or name.startswith("motionlab.")}


def upward_imports(root: Path = PACKAGE) -> list[str]:
    apps = _console_scripts()
    bad = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        parts = module.split(".")
        if len(parts) < 2 or parts[1] not in ALLOWED or module in apps:
            continue
        for target in sorted(motionlab_imports(path, root)):
            layer = target.split(".")[1] if "." in target else ""
            if layer != parts[1] and layer not in ALLOWED[parts[1]]:
                bad.append(f"{module} imports {target}")
    return bad


def test_no_upward_import():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path):
    """The walker itself: a lower module that imports the pipeline (even inside a function, even
    relatively) is reported."""
    fake = tmp_path / "motionlab"
    (fake / "flow").mkdir(parents=True)
    (fake / "flow" / "bad.py").write_text("def f():\n    from motionlab.pipeline import config_hash\n")
    (fake / "models").mkdir()
    (fake / "models" / "rel.py").write_text("from ..stages import tsn\nfrom .warp import backward_warp\n")
    (fake / "core").mkdir()
    (fake / "core" / "x.py").write_text("import motionlab.data.types\n")
    assert upward_imports(fake) == ["motionlab.core.x imports motionlab.data.types",
                                    "motionlab.flow.bad imports motionlab.pipeline",
                                    "motionlab.models.rel imports motionlab.stages"]

