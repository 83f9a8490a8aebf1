"""Render daemon configuration files from the jinja2 templates in templates/."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2

from testbed import TEMPLATES_DIR

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
    undefined=jinja2.StrictUndefined,  # a missing value is an error, never an empty config line
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_text(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def render_to(template: str, dest: Path, *, secret: bool = True, **context: Any) -> Path:
    """Render `template` into `dest`. Config files hold shared secrets or passwords, so 0600 by default."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(render_text(template, **context))
    os.chmod(dest, 0o600 if secret else 0o644)
    return dest
