"""Download MultiNLI (nyu-mll/multi_nli) from the Hugging Face Hub into the xenc data mirror.

Usage:
    XENC_DATA_DIR=~/xenc-data python data_scripts/prepare_mnli.py [--out DIR] [--force]

Writes mnli/{train,dev_matched,dev_mismatched}.tsv: 392702 / 9815 / 9832 rows.
In xenc, `validation` is dev-matched and `test` dev-mismatched (MultiNLI's test labels are not public).
Idempotent: files that exist are kept unless --force. Then `xenc.data.load("mnli")` reads them offline.
"""

from _common import run

if __name__ == "__main__":
    run("mnli")
