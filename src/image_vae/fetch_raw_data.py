"""``python -m image_vae.fetch_raw_data``: make sure every raw IDX file is present.

Reads the catalog of the Kedro project in the current directory and asks each
``IDXDataset`` entry to obtain its file if missing (system copy first, then the
download mirrors). Exits with a one-line error when a file cannot be obtained.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from image_vae.datasets.idx_dataset import IDXDataset
from image_vae.datasets.idx_format import RawDataError
from image_vae.datasets.image_source import ImageSourceDataset


def main(argv: list[str] | None = None) -> int:
    """Ensures the raw data of the project at ``--project`` (default: cwd) exists."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument("--env", default=None)
    args = parser.parse_args(argv)

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(args.project)
    with KedroSession.create(project_path=args.project, env=args.env) as session:
        catalog = session.load_context().catalog
        try:
            for name in catalog:
                dataset = catalog.get(name)
                files = (
                    dataset.fashion_mnist_files()
                    if isinstance(dataset, ImageSourceDataset)
                    else {name: dataset}
                )
                for key, file in files.items():
                    if isinstance(file, IDXDataset):
                        file.ensure_present()
                        print(f"{key}: {file._describe()['filepath']} present")
        except RawDataError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
