"""Build hook: ship the sftrl binary inside the package, so that `pip install ./python` works from
any folder with no environment variables.

At build time (pip runs this for `pip install ./python` and when building a wheel), the binary is
taken from, in order:
  1. $SFTRL_BIN, when set (an executable file);
  2. the release build of the sftrl checkout this package sits in (../.build/release/sftrl),
     built first with `swift build -c release --product sftrl` when it is missing and `swift` is
     on PATH (set SFTRL_NO_SWIFT_BUILD=1 to skip building);
and copied to sftrl/bin/sftrl in the installed package. When none is found the package installs
without it and finds the binary at run time (see sftrl._binary.find_binary), saying where it looked.
Everything else is in pyproject.toml.
"""
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _locate_binary(log):
    env = os.environ.get("SFTRL_BIN")
    if env:
        p = Path(env).expanduser()
        if p.is_file() and os.access(p, os.X_OK):
            return p
        log(f"sftrl: SFTRL_BIN={env!r} is not an executable file; ignoring it")
    root = HERE.parent
    if not (root / "Package.swift").is_file():
        return None
    built = root / ".build" / "release" / "sftrl"
    if not built.is_file() and shutil.which("swift") and os.environ.get("SFTRL_NO_SWIFT_BUILD") != "1":
        log("sftrl: building the binary (swift build -c release --product sftrl); this takes a few minutes")
        subprocess.run(["swift", "build", "-c", "release", "--product", "sftrl"], cwd=root, check=False)
    return built if built.is_file() else None


class BuildWithBinary(build_py):
    def run(self):
        super().run()
        binary = _locate_binary(print)
        if binary is None:
            print("sftrl: no binary to ship; the package will look for one at run time")
            return
        target = Path(self.build_lib) / "sftrl" / "bin" / "sftrl"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(binary, target)
        target.chmod(0o755)
        (target.parent / "SOURCE").write_text(str(binary) + "\n", encoding="utf-8")
        print(f"sftrl: shipping {binary} as {target}")


setup(cmdclass={"build_py": BuildWithBinary})
