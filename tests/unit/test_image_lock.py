"""The container image's lock pins every runtime dependency of pyproject.toml with hashes."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.paths import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = ROOT / "requirements" / "image.lock"


def locked() -> dict[str, tuple[str, str]]:
    """name -> (version, the entry's text) of requirements/image.lock."""
    entries = re.split(r"\n(?=[a-z0-9])", LOCK.read_text().strip(), flags=re.I)
    out = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", entry)
        assert match, entry[:80]
        out[canonicalize_name(match.group(1))] = (match.group(2), entry)
    return out


def test_the_image_lock_pins_every_runtime_dependency_with_hashes() -> None:
    pins = locked()
    for spec in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: run `make lock`"
        version, entry = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)
    for _, entry in pins.values():
        assert "--hash=sha256:" in entry
    for spec in PYPROJECT["project"]["optional-dependencies"]["local"]:
        assert canonicalize_name(Requirement(spec).name) not in pins  # not in the image
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r /tmp/image.lock" in dockerfile
    assert " -e " not in dockerfile  # a wheel install, like a user's
