"""Load the trained DIET and ResponseSelector weights without Rasa's one-step training run.

Rasa 3.6 loads a TensorFlow model (``RasaModel.load``) by compiling it and *training it on one
example* so that every variable exists, then reads the saved weights over them. Tracing that
training step costs most of the start-up: on this project's 2-core machine, loading the model
took 32 s, of which 22 s were the two training steps (cProfile, docs/performance.md).

:func:`install` replaces that method, for prediction only (not for fine-tuning), with
TensorFlow's deferred restore: the weights are read first, and each variable takes its saved
value the moment the first prediction creates it. That prediction is the warm-up call Rasa makes
anyway. The variables only training needs (the optimizer's) are skipped on purpose
(``expect_partial``); every variable prediction uses must have been restored
(``assert_existing_objects_matched``), or the stock loading runs instead. Loading then took 13 s,
and the predictions are identical: ``tests/bot/test_model_loading.py`` compares intent, ranking and
retrieval answers of both ways on the training examples.

Installed by :func:`bot.rasa_overrides.install` together with :mod:`bot.action_results`;
idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)

_STOCK_LOAD = RasaModel.load.__func__  # type: ignore[attr-defined]


def _load(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    if finetune_mode or predict_data_example is None:
        # Fine-tuning needs the optimizer's state; without an example nothing creates the
        # variables. Both keep Rasa's way.
        return _STOCK_LOAD(
            cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
            *args, **kwargs,
        )  # fmt: skip
    import tensorflow as tf

    config = kwargs.get("config", {})
    model = cls(*args, **kwargs)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(config.get("learning_rate", 0.001)),
        run_eagerly=config.get("run_eagerly"),
    )
    status = model.load_weights(model_file_name)
    model.run_inference(predict_data_example)  # creates the variables; they take saved values
    try:
        status.assert_existing_objects_matched()
    except AssertionError as error:
        logger.warning(
            "deferred weight restore left variables unset (%s); loading the stock way",
            str(error).splitlines()[0][:200],
        )
        return _STOCK_LOAD(
            cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
            *args, **kwargs,
        )  # fmt: skip
    status.expect_partial()  # the optimizer's slots: training only
    return model


def install() -> None:
    """Make ``RasaModel.load`` restore weights without a training step (idempotent)."""
    RasaModel.load = classmethod(_load)  # type: ignore[method-assign, assignment]


def uninstall() -> None:
    """Back to Rasa's own loading (for comparisons in tests and benchmarks)."""
    RasaModel.load = classmethod(_STOCK_LOAD)  # type: ignore[method-assign, assignment]


def installed() -> bool:
    return RasaModel.load.__func__ is _load  # type: ignore[attr-defined]
