"""TensorBoard summaries of dreams: images and activations, step = epochs trained.

TensorBoard reads TensorFlow's event files. They are written here with
TensorFlow's own `tf.summary.write` and the metadata of TensorBoard's image
and scalar plugins (what `tf.summary.image` / `tf.summary.scalar` write), so
no `tensorboard` package is needed to write them, only TensorFlow, whatever
Keras backend trains (JAX, PyTorch). `summaries_unavailable()` says why not
when TensorFlow cannot be imported.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from kerasdream.series import DreamSeries, enlarged

IMAGES_PLUGIN, SCALARS_PLUGIN = "images", "scalars"  # TensorBoard's plugin names


def summaries_unavailable() -> str | None:
    """Why TensorBoard summaries cannot be written here, or None."""
    try:
        import tensorflow  # noqa: F401
    except ImportError as error:
        return f"they need TensorFlow, which cannot be imported ({error})"
    return None


def png_bytes(image: np.ndarray) -> bytes:
    """One (H, W, C) uint8 image encoded as PNG."""
    image = np.asarray(image, "uint8")
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _metadata(plugin: str):
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin  # content: the plugin's version-0 (empty) data
    return metadata


class ImageSummaries:
    """An event-file writer for one TensorBoard run folder. Each `write` adds,
    at `step`: the grid of all dreams (`dreams/grid`), each dream
    (`dreams/<label>`) and each dream's activation (`dream_activation/<label>`)."""

    def __init__(self, run_dir: str):
        import tensorflow as tf

        self.run_dir = run_dir
        self._writer = tf.summary.create_file_writer(run_dir)

    def image(self, tag: str, image: np.ndarray, step: int) -> None:
        """Like `tf.summary.image(tag, image[None], step)`: TensorBoard's Images tab."""
        import tensorflow as tf

        height, width = image.shape[:2]
        tensor = tf.constant([str(width).encode(), str(height).encode(), png_bytes(image)])
        with self._writer.as_default():
            tf.summary.write(tag, tensor, step=int(step), metadata=_metadata(IMAGES_PLUGIN))

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Like `tf.summary.scalar`: TensorBoard's Scalars tab."""
        import tensorflow as tf

        with self._writer.as_default():
            tf.summary.write(tag, tf.constant(float(value), "float32"), step=int(step),
                             metadata=_metadata(SCALARS_PLUGIN))

    def write(self, step: int, series: DreamSeries, activations: np.ndarray) -> None:
        """The last frame of `series` and its `activations` at `step`."""
        self.image("dreams/grid", series.grid(), step)
        for dream, (tile, value) in enumerate(zip(enlarged(series.frames[-1]), activations)):
            name = series.file_stem(dream)
            self.image(f"dreams/{name}", tile, step)
            self.scalar(f"dream_activation/{name}", value, step)
        self._writer.flush()

    def flush(self) -> None:
        self._writer.flush()
