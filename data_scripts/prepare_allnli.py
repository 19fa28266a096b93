"""Download AllNLI = SNLI + MultiNLI (sentence-transformers/all-nli, pair-class) from the Hub
into the xenc data mirror.

Usage:
    XENC_DATA_DIR=~/xenc-data python data_scripts/prepare_allnli.py [--out DIR] [--force]

Writes allnli/{train,dev,test}.tsv: 942069 / 19657 / 19656 rows.
Idempotent: files that exist are kept unless --force. Then `xenc.data.load("allnli")` reads them offline.
"""

from _common import run

if __name__ == "__main__":
    run("allnli")
