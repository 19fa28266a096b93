"""Download STS benchmark (mteb/stsbenchmark-sts) from the Hugging Face Hub into the xenc data mirror.

Usage:
    XENC_DATA_DIR=~/xenc-data python data_scripts/prepare_stsb.py [--out DIR] [--force]

Writes stsb/{train,dev,test}.tsv: 5749 / 1500 / 1379 rows.
Idempotent: files that exist are kept unless --force. Then `xenc.data.load("stsb")` reads them offline.
"""

from _common import run

if __name__ == "__main__":
    run("stsb")
