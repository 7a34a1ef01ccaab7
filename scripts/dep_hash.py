"""Print a short hash of the dependency spec in pyproject.toml (plus the Python version).

The virtual environment is keyed by it, so an edit elsewhere in pyproject.toml (or the
source) reuses the environment, and a changed dependency builds a new one.
"""

import hashlib
import json
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
spec = {
    "python": sys.version_info[:2],
    "requires-python": project.get("requires-python"),
    "dependencies": project.get("dependencies", []),
    "optional-dependencies": project.get("optional-dependencies", {}),
}
print(hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16])
