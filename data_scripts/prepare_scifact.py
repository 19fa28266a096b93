"""Download BEIR SciFact (BeIR/scifact, BeIR/scifact-qrels) from the Hugging Face Hub into the xenc data mirror.

Usage:
    XENC_DATA_DIR=~/xenc-data python data_scripts/prepare_scifact.py [--out DIR] [--force]

Writes scifact/corpus.jsonl.gz (5183 docs), queries.jsonl (1109), qrels/train.tsv (919 judgments, 809 queries)
and qrels/test.tsv (339 judgments, 300 queries).
Idempotent: files that exist are kept unless --force. Then `xenc.data.load("scifact")` reads them offline.
"""

from _common import run

if __name__ == "__main__":
    run("scifact")
