"""Bi-encoder training: the losses against hand-computed ones, column tokenization and padding, the Trainer run
(CLI and `fit`), the sentence-transformers folder it saves, and the errors a user meets."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from transformers import BertModel

from tests.conftest import FIXTURES
from xenc import BiEncoder, EmbeddingSimilarityEvaluator, InputExample
from xenc.bi_losses import CosineSimilarityLoss, MultipleNegativesRankingLoss, SoftmaxLoss, make_bi_loss
from xenc.bi_training import TextsCollator, tokenize_texts
from xenc.sentence_model import PooledEncoder, read_pooling, save_sentence_model
from xenc.train import main, parse_args

FAST = ["--max_train_samples", "32", "--max_eval_samples", "32", "--num_train_epochs", "1", "--use_cpu", "true",
        "--per_device_train_batch_size", "8", "--logging_steps", "1", "--disable_tqdm", "true"]  # fmt: skip


def sts_examples() -> list[InputExample]:
    rows = pd.read_csv(FIXTURES / "sts_pairs.csv")
    return [InputExample(texts=[a, b], label=float(y)) for a, b, y in rows.itertuples(index=False)]


def test_losses_match_their_formulas():
    torch.manual_seed(0)
    u, v, w = torch.randn(4, 8), torch.randn(4, 8), torch.randn(4, 8)
    labels = torch.tensor([0.1, 0.5, 0.9, 0.3])
    manual = ((F.cosine_similarity(u, v) - labels) ** 2).mean()
    assert torch.allclose(CosineSimilarityLoss()([u, v], labels), manual)
    softmax = SoftmaxLoss(8, 3)
    logits = softmax.classifier(torch.cat([u, v, (u - v).abs()], 1))
    classes = torch.tensor([0, 2, 1, 1])
    assert torch.allclose(softmax([u, v], classes), F.cross_entropy(logits, classes))
    scores = 20 * F.normalize(u, dim=1) @ F.normalize(torch.cat([v, w]), dim=1).T  # (4, 8): positives, then negatives
    assert torch.allclose(MultipleNegativesRankingLoss()([u, v, w]), F.cross_entropy(scores, torch.arange(4)))


def test_in_batch_negatives_skip_other_positives_of_the_same_query():
    torch.manual_seed(0)
    u, v = torch.randn(3, 8), torch.randn(3, 8)
    scores = 20 * F.normalize(u, dim=1) @ F.normalize(v, dim=1).T
    scores[0, 1] = scores[1, 0] = -torch.inf  # rows 0 and 1 share a query: each other's positive is no negative
    loss = MultipleNegativesRankingLoss()([u, v], group_ids=torch.tensor([7, 7, 9]))
    assert torch.allclose(loss, F.cross_entropy(scores, torch.arange(3)))


def test_in_batch_negatives_mask_only_positives_when_hard_negatives_follow():
    torch.manual_seed(0)
    u, v, w = torch.randn(3, 8), torch.randn(3, 8), torch.randn(3, 8)
    scores = 20 * F.normalize(u, dim=1) @ F.normalize(torch.cat([v, w]), dim=1).T  # (3, 6)
    scores[0, 1] = scores[1, 0] = -torch.inf  # only the other positive of the same query; its negatives stay
    loss = MultipleNegativesRankingLoss()([u, v, w], group_ids=torch.tensor([7, 7, 9]))
    assert torch.allclose(loss, F.cross_entropy(scores, torch.arange(3)))
    custom = MultipleNegativesRankingLoss(scale=50.0)
    assert make_bi_loss(custom, "rerank", 8) is custom  # a module is used as given
    with pytest.raises(ValueError, match="does not fit task 'sts'"):
        make_bi_loss(custom, "sts", 8)


def test_a_loss_that_does_not_fit_the_task_names_the_fix():
    with pytest.raises(ValueError, match="does not fit task 'sts'; use 'cosine'"):
        make_bi_loss("softmax", "sts", 8, 3)
    with pytest.raises(ValueError, match="needs num_labels >= 2"):
        make_bi_loss("softmax", "nli", 8)
    with pytest.raises(ValueError, match="use cross or bi"):
        parse_args(["--encoder", "poly"])
    with pytest.raises(ValueError, match="does not fit task 'sts'"):
        parse_args(["--encoder", "bi", "--loss", "mnrl"])
    with pytest.raises(ValueError, match="cross-encoder settings"):
        parse_args(["--encoder", "bi", "--swap_pairs", "true"])


def test_columns_are_tokenized_once_and_padded_per_column(tiny_tokenizer):
    rows = pd.read_csv(FIXTURES / "sts_pairs.csv").head(4)
    from datasets import Dataset

    encoded = tokenize_texts(Dataset.from_pandas(rows), tiny_tokenizer, ["sentence1", "sentence2"])
    assert set(encoded.column_names) == {
        "input_ids_0",
        "attention_mask_0",
        "input_ids_1",
        "attention_mask_1",
        "labels",
    }
    batch = TextsCollator(tiny_tokenizer)([encoded[i] for i in range(4)])
    first = batch["features"][0]
    assert first["input_ids"].shape[1] == max(len(ids) for ids in encoded["input_ids_0"])
    assert (first["attention_mask"].sum(1) == torch.tensor([len(ids) for ids in encoded["input_ids_0"]])).all()
    assert torch.allclose(batch["labels"], torch.tensor(rows["label"].values, dtype=batch["labels"].dtype))


@pytest.mark.parametrize("pooling, normalize", [("mean", True), ("cls", False)])
def test_a_saved_bi_encoder_loads_back_with_the_same_embeddings(tmp_path, tiny_base_dir, tiny_tokenizer, pooling,
                                                                 normalize):  # fmt: skip
    encoder = PooledEncoder(BertModel.from_pretrained(tiny_base_dir), pooling, normalize).eval()
    save_sentence_model(tmp_path / "bi", encoder, tiny_tokenizer, 64, card="# card")
    assert read_pooling(str(tmp_path / "bi")) == (pooling, normalize)
    texts = ["a man is playing a guitar", "a dog"]
    with torch.no_grad():
        expected = encoder(**tiny_tokenizer(texts, padding=True, return_tensors="pt")).numpy()
    assert np.allclose(BiEncoder(str(tmp_path / "bi")).encode(texts), expected, atol=1e-6)
    assert (tmp_path / "bi" / "README.md").read_text() == "# card"


def test_a_plain_checkpoint_is_mean_pooled_unnormalised_as_sentence_transformers_does(tiny_base_dir):
    assert read_pooling(str(tiny_base_dir)) == ("mean", False)
    bi = BiEncoder(str(tiny_base_dir))
    texts = ["a man is playing a guitar", "the red car"]
    assert not np.allclose(np.linalg.norm(bi.encode(texts), axis=1), 1)
    assert bi.similarity(texts, texts) == pytest.approx([1.0, 1.0], abs=1e-5)  # cosine, whatever the norm


def test_modules_xenc_cannot_run_are_refused(tmp_path, tiny_base_dir):
    folder = tmp_path / "dense"
    folder.mkdir()
    (folder / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Dense", "path": "2"}]))
    with pytest.raises(ValueError, match="Dense.*Fix: use SentenceTransformer"):
        read_pooling(str(folder))


@pytest.mark.heavy
def test_fit_trains_and_saves_the_best_model_by_the_evaluator(tmp_path, tiny_base_dir):
    bi = BiEncoder(str(tiny_base_dir))
    examples = sts_examples()
    evaluator = EmbeddingSimilarityEvaluator.from_input_examples(examples, name="dev")
    before = evaluator(bi)["dev_spearman_cosine"]
    out = tmp_path / "fit"
    bi.fit(DataLoader(examples, shuffle=True, batch_size=4), evaluator=evaluator, epochs=6, warmup_steps=2,
           optimizer_params={"lr": 1e-3}, output_path=str(out), show_progress_bar=False)  # fmt: skip
    log = pd.read_csv(out / "eval" / "similarity_evaluation_dev_results.csv")
    assert len(log) == 6 and log["cosine_spearman"].max() > before + 0.1  # it learns the training pairs
    saved = BiEncoder(str(out))
    assert evaluator(saved)["dev_spearman_cosine"] == pytest.approx(log["cosine_spearman"].max(), abs=1e-6)
    assert json.loads((out / "fit_args.json").read_text())["loss"] == "cosine"


@pytest.mark.heavy
def test_fit_picks_the_loss_from_the_examples(tmp_path, tiny_base_dir):
    bi = BiEncoder(str(tiny_base_dir))
    nli = [InputExample(texts=["a man", f"a {w}"], label=i % 3) for i, w in enumerate(["dog", "cat", "car"] * 3)]
    bi.fit(DataLoader(nli, batch_size=3), epochs=1, output_path=str(tmp_path / "nli"), show_progress_bar=False)
    triplets = [InputExample(texts=["a man", "a person", "a dog"])] * 6
    bi.fit(DataLoader(triplets, batch_size=3), epochs=1, output_path=str(tmp_path / "mnrl"), show_progress_bar=False)
    unlabelled = [InputExample(texts=["a man", "a person"]), InputExample(texts=["a dog", "a cat"])]  # label 0
    bi.fit(DataLoader(unlabelled, batch_size=2), output_path=str(tmp_path / "pairs"), show_progress_bar=False)
    losses = [json.loads((tmp_path / n / "fit_args.json").read_text())["loss"] for n in ("nli", "mnrl", "pairs")]
    assert losses == ["softmax", "mnrl", "mnrl"]
    with pytest.raises(ValueError, match="loss_fct='contrastive' is unknown"):
        bi.fit(DataLoader(unlabelled, batch_size=2), loss_fct="contrastive")
    with pytest.raises(ValueError, match="not a score in 0..1"):
        bi.fit(DataLoader([InputExample(texts=["a", "b"], label=4.5)], batch_size=1))
    with pytest.raises(ValueError, match="same number of texts"):
        bi.fit(DataLoader([*triplets[:1], *nli[:1]], batch_size=2))


@pytest.mark.heavy
@pytest.mark.parametrize(
    "dataset, key", [("stsb", "test_spearman"), ("sick-e", "test_accuracy"), ("trecqa", "test_map")]
)
def test_xenc_train_encoder_bi_writes_a_model_and_results(tiny_base_dir, tmp_path, dataset, key):
    out = tmp_path / dataset
    argv = ["--encoder", "bi", "--model", str(tiny_base_dir), "--dataset", dataset, "--output_dir", str(out), *FAST]
    metrics = main(*parse_args(argv))
    results = json.loads((out / "results.json").read_text())
    assert key in metrics and results["config"]["encoder"] == "bi"
    assert {"untrained_" + key.removeprefix("test_"), "wall_time_s"} <= set(results["metrics"])
    assert (out / "modules.json").exists() and not list(out.glob("checkpoint-*"))
    BiEncoder(str(out)).encode(["a man"])
    with pytest.raises(FileExistsError, match="already holds a model"):
        main(*parse_args(argv))


@pytest.mark.slow
def test_a_trained_bi_encoder_loads_in_sentence_transformers_with_the_same_embeddings(tmp_path):
    from sentence_transformers import SentenceTransformer

    bi = BiEncoder("minilm-l6")
    bi.fit(DataLoader(sts_examples(), batch_size=8), epochs=2, warmup_steps=0, optimizer_params={"lr": 1e-4},
           output_path=str(tmp_path / "m"), show_progress_bar=False)  # fmt: skip
    texts = ["A man is playing a guitar.", "Two dogs run through a field of tall grass."]
    peer = SentenceTransformer(str(tmp_path / "m"), device="cpu")
    assert np.allclose(peer.encode(texts), BiEncoder(str(tmp_path / "m")).encode(texts), atol=1e-5)
    moved = np.abs(peer.encode(texts) - BiEncoder("minilm-l6").encode(texts)).max()
    assert moved > 1e-3, moved  # it trained: the saved embeddings are not the base model's


def test_samplers_make_new_pairs_only(tiny_base_dir):
    from xenc.augment import sample_pairs

    sentences = ["a man is playing a guitar", "a man is playing a flute", "a dog is running in the park",
                 "a dog is running on the street", "two people are eating food", "a woman is eating"]  # fmt: skip
    gold = [(sentences[0], sentences[1])]
    for method in ("random", "bm25", "bi-encoder"):
        pairs = sample_pairs(sentences * 2, method, k=2, bi_encoder=BiEncoder(str(tiny_base_dir)), exclude=gold)
        keys = [frozenset(p) for p in pairs]
        assert pairs and len(set(keys)) == len(keys) and all(len(k) == 2 for k in keys)
        assert frozenset(gold[0]) not in keys and len(pairs) <= 2 * len(sentences)
    bm25 = sample_pairs(sentences, "bm25", k=1)
    assert (sentences[2], sentences[3]) in bm25  # the nearest by words
    bi = BiEncoder(str(tiny_base_dir))
    cosines = bi.similarity([sentences[0]] * 5, sentences[1:])
    nearest = sentences[1 + int(np.argmax(cosines))]
    assert (sentences[0], nearest) in sample_pairs(sentences, "bi-encoder", k=1, bi_encoder=bi)
    with pytest.raises(ValueError, match="needs bi_encoder"):
        sample_pairs(sentences, "bi-encoder")


def test_extra_training_rows_are_appended_and_checked(tmp_path):
    from xenc.runs import load_splits

    silver = tmp_path / "silver.tsv"
    silver.write_text("sentence1\tsentence2\tlabel\nA cat sits.\tA cat is sitting.\t0.9\n")
    cfg, _ = parse_args(["--max_train_samples", "5", "--extra_train_file", str(silver)])
    train = load_splits(cfg)["train"]
    assert len(train) == 6 and train[5] == {"sentence1": "A cat sits.", "sentence2": "A cat is sitting.", "label": 0.9}
    silver.write_text("a\tb\nx\ty\n")
    with pytest.raises(ValueError, match="columns .* missing"):
        load_splits(cfg)
    with pytest.raises(FileNotFoundError, match="no such file"):
        parse_args(["--extra_train_file", str(tmp_path / "none.tsv")])


def test_xenc_train_with_a_bad_flag_value_is_one_line_and_status_2(tmp_path, capsys):
    from xenc.cli import main as cli

    for flags, words in ((["--encoder", "bi", "--loss", "bce"], "Unknown bi-encoder loss 'bce'"),
                         (["--extra_train_file", str(tmp_path / "none.tsv")], "no such file")):  # fmt: skip
        with pytest.raises(SystemExit) as stop:
            cli(["train", *flags, "--output_dir", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and words in err and "Traceback" not in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_bi_encoder_saved_by_sentence_transformers_loads_in_xenc_with_the_same_embeddings(tmp_path):
    from sentence_transformers import SentenceTransformer

    from xenc import resolve_model

    peer = SentenceTransformer(resolve_model("minilm-l6"), device="cpu")
    peer.save(str(tmp_path / "peer"))  # the peer's own format of today (its pooling config differs from ours)
    texts = ["A man is playing a guitar.", "Two dogs run through a field of tall grass."]
    assert np.allclose(BiEncoder(str(tmp_path / "peer")).encode(texts), peer.encode(texts), atol=1e-5)


def test_both_pooling_config_formats_are_read(tmp_path):
    for config in ({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}, {"pooling_mode": "cls"}):
        (tmp_path / "1_Pooling").mkdir(exist_ok=True)
        (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(config))
        modules = [
            {"type": "sentence_transformers.models.Transformer", "path": ""},
            {"type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling", "path": "1_Pooling"},
        ]
        (tmp_path / "modules.json").write_text(json.dumps(modules))  # fmt: skip
        assert read_pooling(str(tmp_path)) == ("cls", False)
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": "weightedmean"}))
    with pytest.raises(ValueError, match="not supported"):
        read_pooling(str(tmp_path))
