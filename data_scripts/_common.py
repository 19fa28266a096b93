"""Shared command line of the prepare_* scripts: where to write, and whether to rewrite."""

import argparse
import logging
import os
from pathlib import Path

from xenc.data.hub import PREPARERS


def run(name: str) -> None:
    parser = argparse.ArgumentParser(description=f"Write {name} into the xenc data mirror.")
    parser.add_argument(
        "--out", default=os.environ.get("XENC_DATA_DIR"), help="mirror folder (default: XENC_DATA_DIR)"
    )
    parser.add_argument("--force", action="store_true", help="rewrite files that already exist")
    args = parser.parse_args()
    if not args.out:
        parser.error("set XENC_DATA_DIR or pass --out DIR")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        PREPARERS[name](Path(args.out).expanduser(), force=args.force)
    except ConnectionError as err:
        raise SystemExit(
            f"{name}: download from the Hugging Face Hub failed ({err}). Go online and run again."
        ) from err
    print(f"{name}: mirror written under {args.out}")
