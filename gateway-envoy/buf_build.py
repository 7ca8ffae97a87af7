"""`buf build` of proto/, for the scripts that read the contracts (the
gateway's transcoder config, the OpenAPI document, the reference, the proto
conventions check). buf keeps a cache under $HOME, or in the working
directory when there is none (k8s/render-envoy.sh renders with an empty
environment), so each build gets a temporary one."""

import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def buf_build(output_format, source_info=True):
    """The descriptor set of proto/ and its imports as bytes, in `binpb` or
    `json`; without source info (comments) when it is not needed."""
    buf = os.environ.get("FREVIX_BUF", str(ROOT / ".venv/bin/buf"))
    command = [buf, "build", str(ROOT / "proto"), "-o", f"-#format={output_format}"]
    if not source_info:
        command.append("--exclude-source-info")
    with tempfile.TemporaryDirectory() as cache:
        built = subprocess.run(
            command,
            check=True,
            capture_output=True,
            env={**os.environ, "BUF_CACHE_DIR": cache},
        )
    return built.stdout
