"""Download TrecQA answer-sentence selection (Wang et al. 2007, jacana form) into the xenc data mirror.

Usage:
    XENC_DATA_DIR=~/xenc-data python data_scripts/prepare_trecqa.py [--out DIR] [--force]

Writes trecqa/{train,dev,test}.csv (columns qtext,label,atext; one row per candidate answer): 4718 / 1148 / 1517
rows, 93 / 81 / 95 questions; the "clean" questions (at least one right and one wrong answer): dev 65, test 68.
The files come from GitHub (brmson/dataset-sts, pinned commit) and are checked against their SHA-256.
Idempotent: files that exist are kept unless --force. Then `xenc.data.load("trecqa")` reads them offline.
"""

from _common import run

if __name__ == "__main__":
    run("trecqa")
