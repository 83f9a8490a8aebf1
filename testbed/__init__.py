"""mihsec testbed orchestration: topology file -> plan -> running nodes -> measurements -> report."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = REPO_ROOT / "templates"
TOPOLOGIES_DIR = REPO_ROOT / "topologies"
