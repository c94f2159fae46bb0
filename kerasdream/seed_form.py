"""The seed's own form of a dream: plain Keras layers, an activity regularizer, `fit`.

    Input(N one-hot) -> Dense(H*W*C, use_bias=False) -> Reshape(H, W, C)
      -> sigmoid * 255 -> the network's preprocessing
      -> a frozen copy of the network up to `layer`
      -> Identity(activity_regularizer=FilterRegularizer(filters))
    model.compile(keras.optimizers.SGD(...)); model.fit(eye(N) repeated, batch_size=N)

Kernel row i is dream i. This trains the same images as
`DreamModel(Channel(layer, filters), base, parameterization="pixels",
transforms=None, redirect_relu=False, precision="float32")` with the same
seed, optimizer and steps (tests/test_seed_form.py). `DreamModel` does it in
its own `train_step` and adds what this form lacks: other parameterizations,
transforms, objectives and a network that is shared, not copied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import ops

from kerasdream.generator import RowSeededNormal
from kerasdream.network.bases import Preprocess, image_shape_for, preprocess_for_model, readable
from kerasdream.network.features import feature_model
from kerasdream.param.pixels import Pixels

# Keras 3.14 (keras-team/keras#22021) divides an activity regularizer's value by the batch size.
KERAS_DIVIDES_BY_BATCH = tuple(int(p) for p in keras.version().split(".")[:2]) >= (3, 14)


@keras.saving.register_keras_serializable(package="kerasdream")
class FilterRegularizer(keras.regularizers.Regularizer):
    """Minus the mean of channel `filters[i]` in dream i, summed over the dreams.

    Minimizing it maximizes each dream's filter. Keras >= 3.14 divides an
    activity regularizer's value by the batch size, so with N dreams each
    dream's gradient would shrink to 1/N of its own and a batch would no
    longer train the images N separate runs do. The value is therefore
    multiplied by the batch size first: the loss Keras adds is exactly
    `-sum_i mean(x[i, ..., filters[i]])`, whatever N.

    Args:
        filters: one channel for every dream, or one per dream (batch row).

    Example:
        ```python
        features = keras.layers.Identity(
            activity_regularizer=kd.FilterRegularizer([0, 1, 2, 3]))(layer_output)
        ```
    """

    def __init__(self, filters: int | Sequence[int]):
        self.filters = [int(filters)] if isinstance(filters, int) else [int(k) for k in filters]

    def __call__(self, x):
        means = ops.mean(x, axis=tuple(range(1, len(x.shape) - 1)))   # (N, channels)
        mask = ops.one_hot(ops.convert_to_tensor(self.filters), x.shape[-1], dtype=means.dtype)
        loss = -ops.sum(means * mask)
        return loss * ops.cast(ops.shape(x)[0], loss.dtype) if KERAS_DIVIDES_BY_BATCH else loss

    def get_config(self):
        return {"filters": self.filters}


def seed_dream_model(base: keras.Model, layer: str, filters: int | Sequence[int],
                     size: int | Sequence[int] | None = None, *, seed: int = 0,
                     row_keys: Sequence[int] | None = None,
                     preprocess: str | None = None) -> keras.Model:
    """The seed's dream network: outputs `{"image": dreams, "features": layer's output}`.

    Args:
        base: the trained network (never modified: the model holds a frozen copy
            of its layers up to `layer`, so plain `fit` cannot change it).
        layer: the layer whose filters to dream.
        filters: one filter (one dream), or one filter per dream.
        size: image size; defaults to the network's own, else 128.
        seed: the starting noise's seed, as `DreamModel`'s.
        row_keys: each dream's key for its starting noise, as `DreamModel`'s.
        preprocess: the network's preprocessing mode; default its own.

    Returns:
        A functional model to `compile(optimizer)` and `fit` on `eye(N)` rows.
        Layers the copy holds run as at inference time only if they respect
        `trainable=False` (batch normalization does; dropout does not).

    Raises:
        DreamError: when `layer` is not in `base` or `size` does not fit it.

    Example:
        ```python
        dream = kd.seed_dream_model(base, "conv_pw_8_relu", [0, 1, 2, 3])
        dream.compile(keras.optimizers.Adam(0.05))
        dream.fit(np.tile(np.eye(4), (100, 1)), batch_size=4, shuffle=False)  # 100 steps
        images = dream.predict(np.eye(4))["image"]
        ```
    """
    base = readable(base)
    num_dreams = 1 if isinstance(filters, int) else len(filters)
    shape = image_shape_for(base, size)
    view = feature_model(base, [layer], shape)     # shares the user's layers
    frozen = keras.models.clone_model(view)        # ... so freeze a copy instead
    frozen.set_weights(view.get_weights())
    frozen.trainable = False
    rows = keras.Input((num_dreams,), name="rows")
    raw = keras.layers.Dense(math.prod(shape), use_bias=False, name="dream_kernel",
                             kernel_initializer=RowSeededNormal(
                                 Pixels.init_stddev, seed, row_keys or range(num_dreams)))(rows)
    image = keras.layers.Rescaling(255.0, name="image")(
        keras.layers.Activation("sigmoid")(keras.layers.Reshape(shape)(raw)))
    x = Preprocess(preprocess_for_model(base, preprocess), name="preprocess")(image)
    features = keras.layers.Identity(activity_regularizer=FilterRegularizer(filters),
                                     name="objective")(frozen(x)[layer])
    return keras.Model(rows, {"image": image, "features": features}, name="seed_dream")
