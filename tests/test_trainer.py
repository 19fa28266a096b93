"""CrossEncoderTrainer: losses against manual ones, gradient accumulation, metric wiring, head checks."""

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset

from tests.conftest import FIXTURES
from xenc.data import tokenize_pairs

STS = pd.read_csv(FIXTURES / "sts_pairs.csv")


@pytest.fixture
def sts_train(tiny_tokenizer):
    return tokenize_pairs(Dataset.from_pandas(STS), tiny_tokenizer, num_labels=1)


def _batch(trainer, data, n):
    return trainer.data_collator([data[i] for i in range(n)])


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_regression_loss_matches_manual(tmp_path, make_trainer, tiny_model, sts_train, loss):
    trainer = make_trainer(tmp_path, tiny_model, loss=loss, train_dataset=sts_train)
    batch = _batch(trainer, sts_train, 8)
    logits = tiny_model(**{k: v for k, v in batch.items() if k != "labels"}).logits.view(-1)
    if loss == "bce":
        expected = F.binary_cross_entropy_with_logits(logits, batch["labels"].float())
    else:
        expected = F.mse_loss(torch.sigmoid(logits), batch["labels"].float())
    assert trainer.compute_loss(tiny_model, dict(batch)).item() == pytest.approx(expected.item(), rel=1e-5)
    # with num_items_in_batch the batch sum is divided by the count of the whole accumulated batch
    summed = trainer.compute_loss(tiny_model, dict(batch), num_items_in_batch=torch.tensor(16)).item()
    assert summed == pytest.approx(expected.item() * 8 / 16, rel=1e-5)


def test_cross_entropy_for_classes(tmp_path, make_trainer, tiny_nli_model, tiny_tokenizer):
    data = tokenize_pairs(Dataset.from_dict({"sentence1": ["a man", "a dog", "a cat"], "sentence2": ["b", "c", "d"],
                                             "label": [0, 1, 2]}), tiny_tokenizer, num_labels=3)  # fmt: skip
    trainer = make_trainer(tmp_path, tiny_nli_model, task="nli", train_dataset=data)
    batch = _batch(trainer, data, 3)
    logits = tiny_nli_model(**{k: v for k, v in batch.items() if k != "labels"}).logits
    expected = F.cross_entropy(logits, batch["labels"])
    assert trainer.compute_loss(tiny_nli_model, dict(batch)).item() == pytest.approx(expected.item(), rel=1e-5)


def test_label_smoothing_reaches_the_class_loss(tmp_path, make_trainer, tiny_nli_model, tiny_model, sts_train):
    # Trainer applies label_smoothing_factor only without a loss function; CrossEncoderTrainer passes it to its own
    trainer = make_trainer(tmp_path, tiny_nli_model, task="nli", label_smoothing_factor=0.1)
    logits, labels = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]]), torch.tensor([0, 1])
    smoothed = F.cross_entropy(logits, labels, label_smoothing=0.1).item()
    assert smoothed != pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-3)
    assert trainer.compute_loss_func({"logits": logits}, labels).item() == pytest.approx(smoothed, rel=1e-6)
    with pytest.raises(ValueError, match="label_smoothing_factor=0.1 applies to class losses"):
        make_trainer(tmp_path / "sts", tiny_model, train_dataset=sts_train, label_smoothing_factor=0.1)


def test_gradient_accumulation_8x1_equals_4x2(tmp_path, make_trainer, tiny_model, sts_train):
    common = dict(train_dataset=sts_train.select(range(16)), num_train_epochs=1, learning_rate=1e-2,
                  train_sampling_strategy="sequential", lr_scheduler_type="constant", weight_decay=0.0)  # fmt: skip
    config = tiny_model.config
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0  # same forward pass in both runs
    a_model, b_model = type(tiny_model)(config), type(tiny_model)(config)
    a_model.load_state_dict(tiny_model.state_dict()), b_model.load_state_dict(tiny_model.state_dict())
    a = make_trainer(tmp_path / "a", a_model, per_device_train_batch_size=8, **common)
    b = make_trainer(tmp_path / "b", b_model, per_device_train_batch_size=4, gradient_accumulation_steps=2, **common)
    a.train(), b.train()
    for (name, pa), pb in zip(a.model.named_parameters(), b.model.parameters()):
        assert torch.allclose(pa, pb, atol=1e-5), name
    assert a.state.global_step == b.state.global_step == 2


def test_metrics_and_best_model_metric_are_wired(tmp_path, make_trainer, tiny_model, sts_train):
    trainer = make_trainer(tmp_path, tiny_model, train_dataset=sts_train, eval_dataset=sts_train,
                           eval_strategy="epoch", save_strategy="epoch", load_best_model_at_end=True)  # fmt: skip
    assert trainer.args.metric_for_best_model == "spearman" and trainer.args.greater_is_better
    metrics = trainer.evaluate()
    assert {"eval_spearman", "eval_pearson", "eval_loss"} <= set(metrics)


def test_bf16_training_evaluates_in_fp32(tmp_path, make_trainer, tiny_model, sts_train):
    """Saved models load in fp32: the evaluation that picks the best checkpoint runs without autocast."""
    seen = []
    tiny_model.classifier.register_forward_hook(lambda module, args, out: seen.append((module.training, out.dtype)))
    trainer = make_trainer(tmp_path, tiny_model, train_dataset=sts_train, eval_dataset=sts_train, bf16=True,
                           max_steps=1, per_device_train_batch_size=4)  # fmt: skip
    trainer.train()
    trainer.evaluate()
    assert (True, torch.bfloat16) in seen  # the training step ran under bf16 autocast
    assert {dtype for training, dtype in seen if not training} == {torch.float32}
    assert trainer.model.forward != trainer.model._original_forward  # the autocast forward is back for training


@pytest.mark.heavy  # 30 epochs
def test_training_lowers_the_loss(tmp_path, make_trainer, tiny_model, sts_train):
    trainer = make_trainer(tmp_path, tiny_model, train_dataset=sts_train, eval_dataset=sts_train,
                           num_train_epochs=30, learning_rate=3e-3, per_device_train_batch_size=10)  # fmt: skip
    before = trainer.evaluate()["eval_loss"]
    trainer.train()
    assert trainer.evaluate()["eval_loss"] < before - 0.05


def test_sts_needs_one_label_and_classes_must_fit_the_head(tmp_path, make_trainer, tiny_model, tiny_nli_model,
                                                            sts_train, tiny_tokenizer):  # fmt: skip
    with pytest.raises(ValueError, match="num_labels=1"):
        make_trainer(tmp_path, tiny_nli_model, task="sts", train_dataset=sts_train)
    four = tokenize_pairs(Dataset.from_dict({"sentence1": ["a", "b"], "sentence2": ["c", "d"], "label": [0, 3]}),
                          tiny_tokenizer)  # fmt: skip
    with pytest.raises(ValueError, match="class id 3 but the model has num_labels=3"):
        make_trainer(tmp_path, tiny_nli_model, task="classification", train_dataset=four)
    with pytest.raises(ValueError, match="does not fit task"):
        make_trainer(tmp_path, tiny_model, task="sts", loss="ce", train_dataset=sts_train)


def test_nli_with_a_one_label_model_is_refused_before_training(tmp_path, make_trainer, tiny_model, sts_train):
    with pytest.raises(ValueError, match="needs a model with num_labels=3, but it has 1"):
        make_trainer(tmp_path, tiny_model, task="nli", train_dataset=sts_train)


def test_every_cross_loss_is_one_class_in_one_table_the_tasks_read():
    from xenc.losses import CROSS_LOSSES, losses_for
    from xenc.tasks import TASKS

    for name, cls in CROSS_LOSSES.items():
        assert cls.name == name and cls.tasks and "Example" in cls.__doc__, name
        assert all(name in TASKS[task].losses for task in cls.tasks)
    assert {task: TASKS[task].losses for task in TASKS} == {task: losses_for(task) for task in TASKS}
    for name in ("bce", "mse", "ranknet", "kl"):  # label smoothing only where a class is the target
        with pytest.raises(ValueError, match="label_smoothing_factor"):
            CROSS_LOSSES[name](label_smoothing=0.1)
