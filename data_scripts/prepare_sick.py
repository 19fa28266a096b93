"""Download SICK (RobZamp/sick) from the Hugging Face Hub into the xenc data mirror.

Usage:
    XENC_DATA_DIR=~/xenc-data python data_scripts/prepare_sick.py [--out DIR] [--force]

Writes sick/SICK.txt: 9840 rows = TRAIN 4439 + TRIAL 495 + TEST 4906.
Idempotent: files that exist are kept unless --force. Then `xenc.data.load("sick")` reads them offline.
"""

from _common import run

if __name__ == "__main__":
    run("sick")
