"""Download SNLI (stanfordnlp/snli) from the Hugging Face Hub into the xenc data mirror.

Usage:
    XENC_DATA_DIR=~/xenc-data python data_scripts/prepare_snli.py [--out DIR] [--force]

Writes snli/{train,dev,test}.tsv: 549367 / 9842 / 9824 rows (pairs without a gold label dropped).
Idempotent: files that exist are kept unless --force. Then `xenc.data.load("snli")` reads them offline.
"""

from _common import run

if __name__ == "__main__":
    run("snli")
