"""push_to_hub: what reaches huggingface_hub's HfApi (offline: a recording stand-in for the Hub)."""

from pathlib import Path
from types import SimpleNamespace

import pytest

import xenc.publish
from xenc import BiEncoder, CrossEncoder


class FakeHub:
    """Records each call; `readme` says whether the repository already holds a README.md."""

    def __init__(self, readme: bool):
        self.readme, self.calls, self.uploaded = readme, [], {}

    def __call__(self, token=None):
        self.calls.append(("token", token))
        return self

    def create_repo(self, repo_id, private=None, exist_ok=False):
        self.calls.append(("create_repo", repo_id, private, exist_ok))
        return SimpleNamespace(repo_id=repo_id if "/" in repo_id else f"me/{repo_id}")

    def create_branch(self, repo_id, branch, exist_ok=False):
        self.calls.append(("create_branch", branch))

    def file_exists(self, repo_id, filename, revision=None):
        return self.readme

    def upload_folder(self, folder_path, ignore_patterns=None, **kwargs):
        self.uploaded = {p.name for p in Path(folder_path).iterdir()}
        self.calls.append(("upload_folder", kwargs["repo_id"], kwargs["commit_message"], ignore_patterns))
        url = f"https://huggingface.co/{kwargs['repo_id']}"
        return SimpleNamespace(commit_url=f"{url}/commit/abc", pr_url=f"{url}/discussions/1")


@pytest.mark.parametrize("readme", [False, True])
def test_cross_encoder_push_uploads_a_saved_folder_with_its_card(tiny_model_dir, monkeypatch, readme):
    hub = FakeHub(readme)
    monkeypatch.setattr(xenc.publish, "HfApi", hub)
    url = CrossEncoder(str(tiny_model_dir)).push_to_hub("my-reranker", token="t", private=True)
    assert url == "https://huggingface.co/me/my-reranker/commit/abc"
    assert ("token", "t") in hub.calls and ("create_repo", "my-reranker", True, False) in hub.calls
    assert {"model.safetensors", "config.json", "README.md", "config_sentence_transformers.json"} <= set(hub.uploaded)
    upload = next(c for c in hub.calls if c[0] == "upload_folder")
    assert upload[2] == "Add new CrossEncoder model"
    assert upload[3] == (["README.md"] if readme else None)  # a card already on the Hub is kept unless replaced


def test_bi_encoder_push_to_a_branch(tiny_model_dir, monkeypatch):
    hub = FakeHub(readme=False)
    monkeypatch.setattr(xenc.publish, "HfApi", hub)
    BiEncoder(str(tiny_model_dir)).push_to_hub("org/emb", revision="v1", commit_message="first")
    assert ("create_branch", "v1") in hub.calls and "modules.json" in hub.uploaded
    assert next(c for c in hub.calls if c[0] == "upload_folder")[1:3] == ("org/emb", "first")
    assert BiEncoder(str(tiny_model_dir)).push_to_hub("org/emb", create_pr=True).endswith("/discussions/1")
