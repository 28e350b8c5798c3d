# tests/package/ runs on its own (`make package-test`), not in the default pytest run
# (pyproject.toml's testpaths): it needs dist/ built and root for the mount namespace.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
