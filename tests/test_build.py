"""The package imports, reports its build, and stays light to import."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import ferroquant


def test_version_matches_package_metadata() -> None:
    assert ferroquant.__version__ == version("ferroquant")


def test_build_info_reports_profile() -> None:
    info = ferroquant.build_info()
    assert info["profile"] in {"release", "debug"}
    assert info["version"] == ferroquant.__version__
    assert info["default_threads"] >= 1


def test_import_does_not_pull_heavy_modules() -> None:
    code = (
        "import sys, json, ferroquant, ferroquant.indicators;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'pandas','scipy','polars','talib','matplotlib','dask','cupy','websockets'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_py_typed_marker_is_shipped() -> None:
    from importlib import resources

    assert (resources.files("ferroquant") / "py.typed").is_file()
