"""xenc: cross-encoders (sentence-pair models) on the Hugging Face Trainer."""

__version__ = "0.1.0"

from .bi_encoder import BiEncoder  # noqa: E402
from .bi_training import BiEncoderTrainer  # noqa: E402
from .cross_encoder import CrossEncoder  # noqa: E402
from .evaluation import (  # noqa: E402
    CEBinaryAccuracyEvaluator,
    CEBinaryClassificationEvaluator,
    CEClassificationEvaluator,
    CECorrelationEvaluator,
    CEF1Evaluator,
    CERerankingEvaluator,
    CESoftmaxAccuracyEvaluator,
    CrossEncoderClassificationEvaluator,
    CrossEncoderCorrelationEvaluator,
    CrossEncoderRerankingEvaluator,
    EmbeddingSimilarityEvaluator,
    InputExample,
)
from .metrics import nli_metrics, ranking_metrics, sts_metrics  # noqa: E402
from .models import resolve_model  # noqa: E402
from .trainer import CrossEncoderTrainer  # noqa: E402

__all__ = [
    "BiEncoder",
    "BiEncoderTrainer",
    "CEBinaryAccuracyEvaluator",
    "CEBinaryClassificationEvaluator",
    "CEClassificationEvaluator",
    "CECorrelationEvaluator",
    "CEF1Evaluator",
    "CERerankingEvaluator",
    "CESoftmaxAccuracyEvaluator",
    "CrossEncoderClassificationEvaluator",
    "CrossEncoderCorrelationEvaluator",
    "CrossEncoderRerankingEvaluator",
    "CrossEncoder",
    "CrossEncoderTrainer",
    "EmbeddingSimilarityEvaluator",
    "InputExample",
    "nli_metrics",
    "ranking_metrics",
    "resolve_model",
    "sts_metrics",
]
