"""Ships the Hydra tree ``conf/`` inside the wheel as ``motionlab/conf``, so a non-editable install
composes configs from any directory (``motionlab.config.preflight.CONF_DIR`` finds either copy);
``conf/local/`` (machine-specific, git-ignored) stays out. pyproject.toml holds everything else:
it cannot both discover packages and map a folder outside the package into one."""

from setuptools import find_namespace_packages, setup

CONF_PACKAGES = ["motionlab.conf", *(f"motionlab.conf.{name}" for name in
                                     find_namespace_packages(where="conf", exclude=["local", "local.*"]))]

setup(
    packages=[*find_namespace_packages(include=["motionlab*"]), *CONF_PACKAGES],
    package_dir={"motionlab.conf": "conf"},
    package_data={name: ["*.yaml"] for name in CONF_PACKAGES},
)
