"""`XencArguments`: what a cross-encoder run needs beyond `TrainingArguments`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .bi_losses import DEFAULT_BI_LOSS, check_bi_loss
from .data.loading import ALIASES, CATALOG, dataset_task
from .data.pairs import TRUNCATION
from .lengths import DEFAULT_LENGTH, MIN_LENGTH
from .models import DEFAULT_MODEL
from .tasks import DISTILLATION_LOSSES, GROUP_LOSSES, TASKS, check_loss, get_task


@dataclass
class XencArguments:
    """Model, data and task settings of a run; pair it with `TrainingArguments` in `HfArgumentParser`."""

    model: str = field(
        default=DEFAULT_MODEL, metadata={"help": "Base model: local path, Hub id or alias (minilm-l6)."}
    )
    encoder: str = field(
        default="cross",
        metadata={
            "help": "cross (a pair through one transformer) or bi (one embedding per text, cosine / softmax / mnrl)."
        },
    )
    dataset: str = field(default="stsb", metadata={"help": f"Dataset name: {', '.join(sorted(CATALOG))}."})
    task: str | None = field(default=None, metadata={"help": f"{', '.join(TASKS)}; default: the dataset's."})
    loss: str | None = field(
        default=None,
        metadata={
            "help": "cross (xenc.losses), per task, its default first: "
            + "; ".join(f"{name}: {', '.join(task.losses)}" for name, task in TASKS.items())
            + f" ({', '.join(DISTILLATION_LOSSES)} with --teacher). bi (xenc.bi_losses), the default per task: "
            + ", ".join(f"{loss} for {name}" for name, loss in DEFAULT_BI_LOSS.items())
            + "."
        },
    )
    teacher: str | None = field(
        default=None,
        metadata={
            "help": f"rerank with {' / '.join(DISTILLATION_LOSSES)}: a trained cross-encoder whose logits the "
            "model learns."
        },
    )
    num_negatives: int = field(
        default=7, metadata={"help": f"rerank with {' / '.join(GROUP_LOSSES)}: irrelevant candidates per group."}
    )
    train_split: str = field(default="train", metadata={"help": "Split to train on."})
    eval_split: str = field(default="validation", metadata={"help": "Split to evaluate on during training."})
    test_split: str | None = field(
        default="test", metadata={"help": "Split reported after training; `none` for no test."}
    )
    max_length: int = field(
        default=DEFAULT_LENGTH,
        metadata={"help": "Longest encoded pair in tokens, special tokens included (the default shrinks to a "
                          "shorter model's position table)."},
    )  # fmt: skip
    truncation: str | None = field(
        default=None,
        metadata={"help": f"One of {TRUNCATION}; only_second for rerank (queries stay whole), else the first."},
    )
    swap_pairs: bool = field(
        default=False,
        metadata={"help": "Also train on each pair as (b, a): for symmetric tasks like STS."},
    )
    length_batches: bool = field(
        default=False,
        metadata={
            "help": "Batches of similar length in shuffled order, re-drawn each epoch (LengthBatchedDataset; sets "
            "train_sampling_strategy=sequential): about 2x faster than random batches at the same accuracy."
        },
    )
    extra_train_file: str | None = field(
        default=None,
        metadata={
            "help": "A CSV / TSV of sentence1,sentence2,label rows added to the training split, e.g. silver pairs "
            "labelled by a cross-encoder (AugSBERT, xenc.augment)."
        },
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training pairs."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Use only the first N eval/test pairs."})
    overwrite_output_dir: bool = field(
        default=False, metadata={"help": "Replace a model already saved in output_dir (refused otherwise)."}
    )
    trust_remote_code: bool = field(
        default=False, metadata={"help": "Run Python code shipped with the base model (never asked on a terminal)."}
    )
    allow_pickle: bool = field(
        default=False, metadata={"help": "Read pickle weights (pytorch_model.bin); by default only safetensors."}
    )
    force_resume: bool = field(
        default=False, metadata={"help": "Resume from a checkpoint of another run (recorded in results.json)."}
    )

    def __post_init__(self) -> None:
        if self.test_split is not None and self.test_split.lower() in ("", "none"):
            self.test_split = None
        name = ALIASES.get(self.dataset.lower(), self.dataset.lower())
        if name not in CATALOG:
            raise ValueError(f"dataset={self.dataset!r} is unknown; use one of {sorted(CATALOG)}.")
        if dataset_task(name) == "retrieval":
            raise ValueError(
                f"{self.dataset!r} is a retrieval corpus; train pairs from stsb, sick-r, sick-e, snli or trecqa "
                "(rerank), or mine groups from it with xenc.retrieval (notebook 03)."
            )
        self.task = self.task or dataset_task(name)
        if self.encoder not in ("cross", "bi"):
            raise ValueError(f"encoder={self.encoder!r}; use cross or bi.")
        if self.encoder == "bi":
            check_bi_loss(self.loss, self.task)
        else:
            check_loss(self.task, self.loss)  # an unknown task or a loss that does not fit it: ValueError
        self.truncation = self.truncation or ("only_second" if self.task == "rerank" else "longest_first")
        if self.truncation not in TRUNCATION:
            raise ValueError(f"truncation={self.truncation!r}; use one of {TRUNCATION}.")
        if self.encoder == "bi" and (self.teacher or self.swap_pairs):
            raise ValueError("--teacher and --swap_pairs are cross-encoder settings; drop them for --encoder bi.")
        if (self.loss in DISTILLATION_LOSSES) != (self.teacher is not None):
            raise ValueError(
                f"loss={self.loss!r}, teacher={self.teacher!r}: the distillation losses {DISTILLATION_LOSSES} need "
                "--teacher (a trained cross-encoder), and --teacher needs one of them."
            )
        if self.num_negatives < 1:
            raise ValueError(f"num_negatives={self.num_negatives}; a rerank group needs at least 1 negative.")
        if self.extra_train_file is not None and not Path(self.extra_train_file).is_file():
            raise FileNotFoundError(f"--extra_train_file {self.extra_train_file}: no such file. Fix: check the path.")
        if self.max_length < MIN_LENGTH:
            raise ValueError(f"max_length={self.max_length} is too short: a pair needs at least {MIN_LENGTH} tokens "
                             "(typical: 128 for sentences, 256-512 for passages).")  # fmt: skip

    @property
    def num_labels(self) -> int | None:
        """1 for sts and rerank, 3 for nli, None (from the data) for classification."""
        return get_task(self.task).num_labels
