"""`push_to_hub` for both encoders, through huggingface_hub's own `HfApi` (as the peer does): save into a temporary
folder (model card included), upload it in one commit. A README.md already in the repository is kept unless
`replace_model_card`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from huggingface_hub import HfApi


def push_to_hub(
    model, repo_id: str, token: str | None = None, private: bool | None = None, commit_message: str | None = None,
    local_model_path: str | None = None, exist_ok: bool = False, replace_model_card: bool = False,
    revision: str | None = None, create_pr: bool = False,
) -> str:  # fmt: skip
    """Upload `model` (or the saved folder `local_model_path`) to `repo_id`; returns the commit's URL (with
    `create_pr`, the pull request's)."""
    api = HfApi(token=token)
    repo_id = api.create_repo(repo_id=repo_id, private=private, exist_ok=exist_ok or create_pr).repo_id
    if revision is not None:
        api.create_branch(repo_id=repo_id, branch=revision, exist_ok=True)
    keep_card = not replace_model_card and api.file_exists(repo_id, "README.md", revision=revision)
    upload = {
        "repo_id": repo_id,
        "commit_message": commit_message or f"Add new {type(model).__name__} model",
        "revision": revision,
        "create_pr": create_pr,
        "ignore_patterns": ["README.md"] if keep_card else None,
    }
    if local_model_path:
        info = api.upload_folder(folder_path=local_model_path, **upload)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(Path(tmp) / "model")
            info = api.upload_folder(folder_path=str(Path(tmp) / "model"), **upload)
    return info.pr_url if create_pr else info.commit_url
