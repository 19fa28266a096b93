"""Download the SemEval STS 2012-2016 test sets (mteb/sts12-sts ... mteb/sts16-sts) from the Hugging Face Hub
into the xenc data mirror.

Usage:
    XENC_DATA_DIR=~/xenc-data python data_scripts/prepare_sts12_16.py [--out DIR] [--force]

Writes sts12-16/sts12-16.tsv: 3108 + 1500 + 3750 + 3000 + 1186 = 12544 rows.
Idempotent: files that exist are kept unless --force. Then `xenc.data.load("sts12-16")` reads them offline.
"""

from _common import run

if __name__ == "__main__":
    run("sts12-16")
