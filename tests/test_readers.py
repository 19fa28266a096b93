"""Property tests of the pair readers: any file either reads back exactly the pairs written, or stops with a
UsageError that names the file; never a traceback from a library, never a shifted or dropped column."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xenc.cli import UsageError, read_pairs

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda t: t.strip() and "\r" not in t and "\x00" not in t
)  # a text the reader keeps: not blank (refused by name), no carriage return (csv folds it into a line end)
ROWS = st.lists(st.tuples(TEXT, TEXT, st.floats(0, 1)), min_size=1, max_size=8)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def written(rows, sep: str, bom: bool) -> bytes:
    """A file as a spreadsheet writes it: a header, every field quoted where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(["sentence1", "sentence2", "label"])
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


@SETTINGS
@given(rows=ROWS, sep=st.sampled_from([",", "\t"]), bom=st.booleans())
def test_a_well_formed_file_reads_back_exactly(rows, sep, bom, tmp_path):
    path = tmp_path / ("pairs.tsv" if sep == "\t" else "pairs.csv")
    path.write_bytes(written(rows, sep, bom))
    df = read_pairs(str(path), encoding="utf-8-sig")
    assert list(zip(df["sentence1"], df["sentence2"])) == [(a, b) for a, b, _ in rows]
    assert [float(y) for y in df["label"]] == [y for _, _, y in rows]


@SETTINGS
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode), sep=st.sampled_from([",", "\t"]))
def test_any_file_reads_or_stops_with_a_usage_error(data, sep, tmp_path):
    path = tmp_path / ("pairs.tsv" if sep == "\t" else "pairs.csv")
    path.write_bytes(data)
    try:
        df = read_pairs(str(path))
    except UsageError as err:
        assert str(path) in str(err)
        return
    assert {"sentence1", "sentence2"} <= set(df.columns) and len(df) > 0
    assert all(text.strip() for column in ("sentence1", "sentence2") for text in df[column])
