"""Write (and optionally execute) the kerasdream tutorial notebooks.

    python notebooks/make_notebooks.py            # write the five .ipynb files, no outputs
    python notebooks/make_notebooks.py --execute  # write them, then run each at full budget
                                                  # and save its outputs in place

The notebooks are generated from this file so they are easy to change and to
regenerate: edit the cells here, not in the .ipynb files.

Every notebook reads one switch in its first code cell, the environment
variable `KERASDREAM_NOTEBOOK_BUDGET`: "full" (the default) for the pictures
worth looking at, at the package's default steps and size
(`kerasdream.defaults.DEFAULT_STEPS`, `DEFAULT_SIZE`), "small" for a smoke run
in a few seconds (what tests/test_notebooks.py uses).

The prose never states the package's dream defaults (parameterization,
transforms, optimizer, steps) as literals: the cells read and print them
from `kerasdream.defaults`, so the notebooks stay true when the defaults change. Execution happens in a temporary working
directory, so the files a notebook writes (dreams, models) never land in the
repository.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import textwrap
import time

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

# ----------------------------------------------------------------- shared cells

SETUP = '''
import logging
import os

# The one switch: KERASDREAM_NOTEBOOK_BUDGET="full" (default) or "small" (a quick smoke run).
BUDGET = os.environ.get("KERASDREAM_NOTEBOOK_BUDGET", "full")
if BUDGET not in ("small", "full"):
    raise ValueError(f"KERASDREAM_NOTEBOOK_BUDGET must be 'small' or 'full'. Received: {BUDGET!r}")
OUT = "kerasdream-output/@SLUG@"  # everything this notebook writes goes here
@EXTRA@
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdream as kd
from kerasdream.defaults import DEFAULT_SIZE, DEFAULT_STEPS

# "full": the package's own default steps and size; "small": a few steps on small images.
STEPS, SIZE = (DEFAULT_STEPS, DEFAULT_SIZE) if BUDGET == "full" else (5, 48)
# Every dream model traces its own training step; TensorFlow would warn about each one.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

%matplotlib inline
%config InlineBackend.figure_formats = ["jpeg"]
%config InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "pil_kwargs": {"quality": 85}}
plt.rcParams.update({"figure.dpi": 72, "font.size": 9})


def show(images, captions=None, columns=8, size=1.8, title=None):
    """Images in a grid, each with its caption underneath."""
    images = np.asarray(images)
    rows = -(-len(images) // columns)
    columns = min(columns, len(images))
    fig, axes = plt.subplots(rows, columns, squeeze=False, layout="constrained",
                             figsize=(size * columns, (size + 0.3) * rows + (0.3 if title else 0)))
    for ax in axes.flat:
        ax.axis("off")
    for index, (ax, image) in enumerate(zip(axes.flat, images)):
        if image.shape[-1] == 1:
            ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        else:
            ax.imshow(image.astype("uint8"))
        if captions is not None:
            ax.text(0.5, -0.04, captions[index], transform=ax.transAxes, ha="center", va="top")
    if title:
        fig.suptitle(title)
    plt.show()


print(f"budget {BUDGET!r}: {STEPS} steps, {SIZE}x{SIZE}-pixel dreams; files go to {OUT}/")
'''


def setup_cell(slug: str, extra: str = "") -> str:
    return SETUP.replace("@SLUG@", slug).replace("@EXTRA@\n", extra)


# ------------------------------------------------------------ 01 dream a filter

NB01 = [
    ("md", r'''
# 1. Dream a filter

A convolutional network is a stack of filters. Each filter of each layer
answers one question about every patch of its input: "how much does this
look like my pattern?" *Feature visualization* asks the network to show us
that pattern: starting from an almost grey image, change the pixels step by
step so that one chosen filter fires as hard as it can. The image we end up
with is the filter's **dream**.

This notebook builds a dream piece by piece, following the recipe of the
Mindboard post "Visualizing How Convolution Neural Networks 'See'":

> create a neural network that is composed of an initial dense layer that is
> applied to a single unit input. The initial dense layer will contain a set
> of weights, each corresponding to a pixel in our "dream" image. The dense
> layer outputs are reshaped into the shape of an image and fed into our
> trained CNN [...] We freeze the trained CNN layers so that only the weights
> in the initial dense layer can be altered. [...] we can apply this loss
> through a custom regularization function applied to the chosen layer.

We first build that network exactly as written, in a few lines of plain
Keras (`kd.seed_dream_model`), and train one filter with `fit`. Then we take
it apart with `kd.DreamModel`, kerasdream's own form of the same network,
which trains the same images and adds what makes better pictures:


```
one-hot row i of eye(N)                the input: N rows, one per dream
  -> Dense(raw_size, use_bias=False)   kernel row i IS dream i: the only weights that train
  -> Reshape -> parameterization       raw values -> pixels in [0, 255]
  -> transforms                        small random shifts, training only
  -> the network's preprocessing       e.g. [0, 255] -> [-1, 1] for MobileNet
  -> the pretrained CNN                up to the chosen layer, training=False, never changed
  -> objective                         one value per dream: filter k's mean activation
loss = -(sum of the N values)          in DreamModel.train_step: a gradient for the kernel only
```

You use it like any Keras model: `model.compile()`, `model.fit(steps)`,
then `model.render()` for the pictures. The network is MobileNet (width
0.25) with ImageNet weights, which ship inside kerasdream, so nothing is
downloaded.
'''),
    ("code", setup_cell("01")),
    ("md", r'''
## The seed's method, as written

`kd.seed_dream_model(base, layer, filter, size)` is the post's network in
plain Keras layers: an input of one unit per dream (a one-hot row), a
`Dense` layer without bias whose weights are the pixels, a reshape into an
image (squashed into [0, 255] by `255 * sigmoid`), the network's own
preprocessing, then the trained CNN up to the chosen layer, **frozen**, and
on that layer's output an activity regularizer, `kd.FilterRegularizer`:
minus the mean of the chosen filter. There is no other loss: `compile` gets
only an optimizer, plain SGD as in the post, and `fit` gets the one-hot row
once per step.

The CNN is a frozen *copy* of the layers it reads: freezing the layers
themselves (`layer.trainable = False`, as the post does) would change your
model. And Keras (3.14 and later) divides an activity regularizer's value by
the batch size; `FilterRegularizer` multiplies it back, so a batch of N
dreams trains each as if it were alone.
'''),
    ("code", r'''
from kerasdream.generator import one_hot

base = kd.load_base()                  # MobileNet (width 0.25), ImageNet weights, shipped
LAYER, FILTER = "conv_pw_5_relu", 7    # a middle layer with 64 filters; we dream filter 7
SGD_RATE = 300.0                       # plain SGD on plain pixels needs a large step

seed_model = kd.seed_dream_model(base, LAYER, FILTER, SIZE, row_keys=[FILTER])
for layer in seed_model.layers:      # the frozen copy is one layer: a functional model
    shape = keras.tree.map_structure(lambda tensor: tuple(tensor.shape), layer.output)
    regularizer = layer.activity_regularizer
    print(f"{layer.name:<24} {type(layer).__name__:<12} -> {shape}",
          f"activity_regularizer={type(regularizer).__name__}" if regularizer else "")
print("trainable:", [v.path for v in seed_model.trainable_variables])

seed_model.compile(keras.optimizers.SGD(SGD_RATE))        # no loss: the regularizer is the loss
seed_model.fit(np.tile(one_hot(1), (STEPS, 1)), batch_size=1, shuffle=False, verbose=0)
seed_image = seed_model.predict(one_hot(1), verbose=0)["image"]
show(np.round(seed_image), [f"filter {FILTER}, {STEPS} SGD steps"], columns=1, size=2.5)
'''),
    ("md", r'''
`kd.DreamModel` builds the same network around a shared (not copied) view
of MobileNet and computes the same loss in its own training step. Told to
do exactly what the seed form does (plain pixels, no transforms, the plain
gradient, float32) with the same optimizer and steps, it trains the same
image, to float precision:
'''),
    ("code", r'''
same = kd.DreamModel(kd.Channel(LAYER, FILTER), size=SIZE, row_keys=[FILTER],
                     parameterization="pixels", transforms=None, redirect_relu=False,
                     precision="float32")
same.compile(keras.optimizers.SGD(SGD_RATE))
same.fit(STEPS)
print(f"largest pixel difference from the seed form: {np.abs(same.images() - seed_image).max():.2g}"
      " (of 255)")
'''),
    ("md", r'''
Pixels trained by plain SGD make a noisy, high-frequency picture. The rest
of this notebook uses `DreamModel` with the package's defaults (printed in
Step 2), which make the pictures worth looking at, and takes it apart step
by step.

## The network and the layer

`kd.load_base()` gave the network (`base=None` everywhere means this
MobileNet). `kd.list_layers` lists its layers with their channel counts; the
command line does the same with `kerasdream layers`. We dream the outputs of
the ReLU layers: after each one, a channel is one filter's response map.
'''),
    ("code", r'''
relus = [info for info in kd.list_layers(base) if info.path.endswith("_relu")]
print(f"{base.name}: {len(base.layers)} layers, {len(relus)} of them ReLUs:")
print("  " + ", ".join(f"{info.path} ({info.channels})" for info in relus))
'''),
    ("md", r'''
## Step 1: the one-hot input and the Dense kernel

The model's input is the identity matrix `eye(N)`, one row per dream. A Dense
layer without bias computes `rows @ kernel`, and a one-hot row just *selects*
a row of the kernel: row i of the output is kernel row i. So the kernel,
`N` rows of numbers, holds `N` images, and training the kernel trains the
images. `fit` feeds the same batch at every step, never shuffled, so row i
always means dream i.
'''),
    ("code", r'''
rows = one_hot(4)                    # what fit feeds for N = 4 dreams: eye(4)
kernel = np.random.default_rng(0).normal(size=(4, 6))
print("rows @ kernel == kernel:", np.allclose(rows @ kernel, kernel))

fig, ax = plt.subplots(figsize=(2.2, 2.2))
ax.imshow(rows, cmap="Greys", vmin=0, vmax=1)
ax.set_xticks(range(4)), ax.set_yticks(range(4))
ax.set_xlabel("input unit"), ax.set_ylabel("dream (batch row)")
ax.set_title("the input: eye(4)")
plt.show()
'''),
    ("md", r'''
## Step 2: the dream model

`kd.DreamModel(objective)` assembles the picture above around the shipped
MobileNet (pass `base=` for another network). The objective
`kd.Channel(LAYER, FILTER)` means "the mean activation of filter `FILTER`
of `LAYER` over all positions". `row_keys=[FILTER]` seeds the starting
noise by the filter number, as a batch of many filters does (we use that
below). Everything else takes the package's defaults, printed here.
'''),
    ("code", r'''
model = kd.DreamModel(kd.Channel(LAYER, FILTER), size=SIZE, row_keys=[FILTER])
generator = model.generator          # the trainable part: Dense -> Reshape -> parameterization


def settings(layer):
    return {k: v for k, v in layer.get_config().items() if k not in ("name", "trainable", "dtype")}


print("objective:        ", model.objective)
print("generator:        ", f"kernel {tuple(generator.kernel.shape)} ->",
      type(generator.parameterization).__name__, f"-> images {generator.image_shape}")
print("transforms:       ", [f"{type(t).__name__}{settings(t)}" for t in model.transforms])
print("preprocessing:    ", model.preprocess.mode)
print("network features: ", model.features.name, f"({len(model.features.layers)} layers)")
'''),
    ("md", r'''
## Step 3: reshape and parameterization

A kernel row is reshaped to the parameterization's `raw_shape` and turned
into pixels. With `"pixels"` every pixel has its own number, squashed by
`255 * sigmoid(raw)`. With `"fourier"` the row is a 2-D spectrum (a real and
an imaginary part per frequency and colour), scaled by 1/frequency and
turned into pixels by an inverse FFT and the same sigmoid, with Lucid's
decorrelated colours. Either way, whatever the optimizer does, every pixel
stays in [0, 255]. The kernel starts as small noise, so the first image is
an almost uniform grey; stretched 100 times you can see the noise.
'''),
    ("code", r'''
parameterization = generator.parameterization
raw = keras.ops.convert_to_numpy(generator.kernel)[0].reshape(parameterization.raw_shape)
start = model.render()[0]            # uint8 (H, W, 3): what the network sees
print(f"{type(parameterization).__name__}: kernel row -> raw shape {raw.shape} -> image {start.shape}")
print(f"raw kernel values: mean {raw.mean():+.4f}, std {raw.std():.4f}")
print(f"start image: pixel values {start.min()}..{start.max()}")

stretched = np.clip(127.5 + 100 * (start.astype(float) - 127.5), 0, 255)
show([start, stretched], ["start image", "same, contrast x100"], columns=2, size=2.2)
'''),
    ("md", r'''
## Step 4: the network's features, frozen but never changed

`model.features` is a functional view of MobileNet from images to the
layer the objective reads. It *shares* the network's layers and weights and
calls them with `training=False` (batch normalization keeps its ImageNet
statistics), but it changes nothing about them: no `trainable` flag is set,
so Keras still lists MobileNet's weights among the model's trainable
weights. What trains is decided in the training step (Step 5).

On a ReLU target the view ends in a `RedirectedReLU`: the same values, but
a filter that is closed everywhere on the start image still gets a gradient
(Lucid's trick), so its dream can move. `model.feature_values()` gives what
the objective reads from the current dreams.
'''),
    ("code", r'''
features = model.feature_values()    # {feature key: array}, on the start image, no transforms
for key, value in features.items():
    print(f"{key}: {value.shape}  (dreams, height, width, channels)")
network = [w for w in model.trainable_weights if w is not generator.kernel]
before = [w.copy() for w in base.get_weights()]      # to check after training
print(f"Keras lists {len(model.trainable_weights)} trainable variables: the kernel and "
      f"{len(network)} of MobileNet's, whose flags kerasdream leaves as they are")
print("redirected:", [layer.name for layer in model.features.layers if "redirected" in layer.name])
'''),
    ("md", r'''
## Step 5: one objective value per dream, and the loss

Called on its one-hot rows, the dream model returns **each dream's
objective value**, shape `(N,)`: here the mean activation of filter 7 on
dream i. Its training step (`DreamModel.train_step`) turns them into the
loss and differentiates only the generator's kernel; on TensorFlow it is

```python
with tf.GradientTape() as tape:
    values = self(rows, training=True)       # one objective value per dream, shape (N,)
    loss = -ops.sum(values)                  # maximize every dream's value
gradients = tape.gradient(loss, [kernel])    # the generator's kernel, nothing else
self.optimizer.apply(gradients, [kernel])
```

(JAX does the same with a stateless call, PyTorch with autograd.) This is
the seed form's activity regularizer, done directly: instead of one
regularizer loss per batch (which Keras rescales by the batch size, and
`FilterRegularizer` scales back), one value per dream, summed. Dream i's gradient therefore
depends on dream i's value alone, so N dreams in one `fit` are exactly N
separate fits (we check that below).
'''),
    ("code", r'''
rows = one_hot(1)
values = keras.ops.convert_to_numpy(model(rows))      # training=False: no transforms
by_hand = features[LAYER][..., FILTER].mean(axis=(1, 2))
print("model(rows):             ", values, f"  shape {values.shape}")
print(f"filter {FILTER}'s mean, by hand: ", by_hand)
print("loss = -sum(values):     ", -values.sum())
'''),
    ("md", r'''
## Step 6: compile and fit

`model.compile()` with no arguments uses the dream optimizer,
`kerasdream.optimizers.default_optimizer()` (printed below); any Keras optimizer
works too, e.g. `model.compile(keras.optimizers.SGD(0.1, momentum=0.9))`. `model.fit(steps)` takes **no data**: it feeds its
own rows `eye(N)` from a repeated `tf.data` dataset.

A small callback keeps a copy of the image now and then so we can watch the
dream appear. Keras calls callbacks after each call of the compiled training
step, and `fit` runs several steps per call for speed; for snapshots at
exact steps we compile with `steps_per_execution=1`. Under each picture: the
filter's mean activation, measured on the 8-bit image by the plain network
(`kerasdream.evaluation.scoring.channel_means`).
'''),
    ("code", r'''
from kerasdream.evaluation.scoring import channel_means


class Snapshots(keras.callbacks.Callback):
    """Keeps the dream image after the given training steps."""

    def __init__(self, at):
        super().__init__()
        self.at, self.images = set(at), {0: model.render()[0]}

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 in self.at:
            self.images[batch + 1] = self.model.render()[0]


model.compile(steps_per_execution=1)    # the default optimizer
optimizer = model.optimizer
print(f"optimizer: {type(optimizer).__name__}, learning rate "
      f"{float(keras.ops.convert_to_numpy(optimizer.learning_rate)):g}")
snapshots = Snapshots([1, STEPS // 20, STEPS // 8, STEPS // 4, STEPS // 2, STEPS])
history = model.fit(STEPS, callbacks=[snapshots])
print(f"{int(optimizer.iterations)} steps; mean loss per dream over the run: "
      f"{history.history['loss'][-1]:.3f}")

steps = sorted(snapshots.images)
images = np.stack([snapshots.images[s] for s in steps])
activation = channel_means(base, LAYER, images, model.preprocess.mode)[:, FILTER]
show(images, [f"step {s}: {a:.2f}" for s, a in zip(steps, activation)], columns=len(steps))
'''),
    ("md", r'''
Only the kernel moved: the optimizer holds state for the kernel alone, and
MobileNet's weights are exactly what they were.
'''),
    ("code", r'''
print("optimizer variables:", [tuple(v.shape) for v in optimizer.variables],
      " kernel:", tuple(generator.kernel.shape))
unchanged = all(np.array_equal(a, b) for a, b in zip(before, base.get_weights()))
print("MobileNet's weights unchanged by fit:", unchanged)
'''),
    ("md", r'''
## The dream

`model.render()` returns the dreams as `uint8` arrays `(N, H, W, 3)`
(`model.images()` the float pixels). How hard does the dream drive filter 7
compared with real photos? MobileNet's activations are ReLU6: they stop at
6, so on the layer's own output a strong dream and a strong photo can tie
at the cap. The value *before* the activation (the batch-norm output that
goes into the ReLU) has no cap: it is the honest measure of how strongly a
picture drives the filter. Below, `channel_means(..., pre_activation=True)`
reads it (in brackets under each picture); an objective reads it with a
`":pre"` suffix, `kd.Channel("conv_pw_5_relu:pre", 7)` (Lucid's
`_pre_relu`; notebook 2).
'''),
    ("code", r'''
import skimage.data
import skimage.transform


def photo(name, size=SIZE):
    """A photo from scikit-image, square-cropped and resized, float pixels 0..255."""
    image = getattr(skimage.data, name)()
    side = min(image.shape[:2])
    image = image[:side, :side]
    return skimage.transform.resize(image, (size, size), anti_aliasing=True) * 255


dream = model.render()[0]
candidates = np.stack([start, photo("chelsea"), photo("coffee"), photo("astronaut"), dream])
post = channel_means(base, LAYER, candidates, "tf")[:, FILTER]
pre = channel_means(base, LAYER, candidates, "tf", pre_activation=True)[:, FILTER]
names = ["grey start", "cat", "coffee", "astronaut", f"dream of {FILTER}"]
show(candidates, [f"{n}\n{a:.2f} (pre {p:.2f})" for n, a, p in zip(names, post, pre)],
     columns=5, size=2.2)
'''),
    ("md", r'''
## Many filters in one `fit`

Nothing above was specific to one dream. With `N` one-hot rows the kernel
holds `N` images and one forward/backward pass trains all of them: a batch
of 16 images costs far less than 16 separate runs. `Channel(LAYER,
range(16))` gives each row its own filter (the model keeps the per-dream
targets in a non-trainable variable). The dreams do not influence each
other: the loss is a sum of per-dream values, the transforms draw the same
shift for the whole batch, and row i's starting noise depends only on the
seed and its row key. So row 7 of the batch is the very dream we trained
alone above.
'''),
    ("code", r'''
# For the timing: the same single dream again, compiled the default way.
single = kd.DreamModel(kd.Channel(LAYER, FILTER), size=SIZE, row_keys=[FILTER])
single.compile()
began = time.perf_counter()
single.fit(STEPS)
single_seconds = time.perf_counter() - began

FILTERS = list(range(16))
batch_model = kd.DreamModel(kd.Channel(LAYER, FILTERS), size=SIZE)
batch_model.compile()
began = time.perf_counter()
batch_model.fit(STEPS)
batch_seconds = time.perf_counter() - began

dreams = batch_model.render()
print("input:", one_hot(16).shape, " kernel:", tuple(batch_model.generator.kernel.shape),
      " model(rows):", tuple(batch_model(one_hot(16)).shape))
acts = channel_means(base, LAYER, dreams, "tf")
show(dreams, [f"filter {k}: {acts[row, k]:.2f}" for row, k in enumerate(FILTERS)],
     title=f"{LAYER}, filters 0-15 (mean activation under each)")
print(f"1 dream: {single_seconds:.1f} s; 16 dreams in one fit: {batch_seconds:.1f} s "
      f"({batch_seconds / 16:.2f} s a dream)")
print(f"row {FILTER} of the batch equals the dream trained alone: "
      f"{np.array_equal(dreams[FILTER], dream)} (largest pixel difference "
      f"{np.abs(dreams[FILTER].astype(int) - dream.astype(int)).max()})")
'''),
    ("md", r'''
## The next 16 filters, on the same traced model

Most of the first `fit` goes into building and tracing the training step.
`model.restart(objective, row_keys)` points the *same* traced model at other
filters: fresh kernel rows for the new row keys, new targets, a fresh
optimizer state and fresh transform streams, so filters 16-31 train exactly
as if their model were new, but without a new trace. This is how a gallery
trains a whole layer chunk by chunk.
'''),
    ("code", r'''
NEXT = list(range(16, 32))
began = time.perf_counter()
batch_model.restart(kd.Channel(LAYER, NEXT), row_keys=NEXT)
batch_model.fit(STEPS)
print(f"filters 16-31 after restart: {time.perf_counter() - began:.1f} s (no new trace)")
dreams = batch_model.render()
acts = channel_means(base, LAYER, dreams, "tf")
show(dreams, [f"filter {k}: {acts[row, k]:.2f}" for row, k in enumerate(NEXT)],
     title=f"{LAYER}, filters 16-31")
'''),
    ("md", r'''
## A gallery: shallow, middle, deep

`kerasdream gallery` does all of this for several layers, 16 filters each
(the same from Python: `kerasdream.runs.gallery.run_gallery`), with one traced
model per layer, and writes a PNG per dream, a grid per layer, per-filter
dream models and a `metrics.json` per layer. Without `--layer` it picks a
shallow, a middle and a deep layer by itself; here we name three pointwise
layers of MobileNet. Every other setting is the package's default (printed
below).

Its summary is one sentence per layer. A dream of **rank 1** excites its own
filter more than any other channel of the layer (a tie at the ReLU6 cap
counts); the **robust rank** is the same test on fixed, slightly shifted,
scaled and rotated views of the dream, so a dream that only works at its
exact pixel position fails it; the **natural ratio** compares the dream's
activation with the filter's strongest response to crops of real photos
(for a capped ReLU, on the pre-activation).
'''),
    ("code", r'''
from kerasdream.defaults import DEFAULT_PARAMETERIZATION, DEFAULT_TRANSFORMS, TRANSFORM_CHOICES

print(f"defaults: parameterization {DEFAULT_PARAMETERIZATION!r}, transforms {DEFAULT_TRANSFORMS!r} "
      f"({TRANSFORM_CHOICES[DEFAULT_TRANSFORMS]}), {DEFAULT_STEPS} steps at {DEFAULT_SIZE} px")
GALLERY_FILTERS = "0-15" if BUDGET == "full" else "0-3"
!kerasdream gallery --layer conv_pw_4_relu --layer conv_pw_8_relu --layer conv_pw_12_relu --filters {GALLERY_FILTERS} --size {SIZE} --steps {STEPS} --out {OUT}/gallery --models-dir {OUT}/models --quiet
'''),
    ("code", r'''
from PIL import Image

gallery = np.asarray(Image.open(f"{OUT}/gallery/gallery.png"))
fig, ax = plt.subplots(figsize=(gallery.shape[1] / 90, gallery.shape[0] / 90))
ax.imshow(gallery)
ax.axis("off")
plt.show()
'''),
    ("md", r'''
`metrics.json` keeps these measures for every filter; here are the middle
layer's. The last column is the path check (`kerasdream.evaluation.path`):
below the layer, are the dream's activations like some real photo's? A dream
"off" the natural path reaches its filter in a way photos do not, so its
picture may mislead (Geirhos et al., 2024, "Don't trust your eyes");
`similarity` is its correlation with the nearest photo crop at its worst
layer, against the `floor` photos reach with one another.
'''),
    ("code", r'''
import json

with open(f"{OUT}/gallery/conv_pw_8_relu/metrics.json") as file:
    entries = json.load(file)["filters"]


def ratio(value):
    return "  -  " if value is None else f"{value:5.2f}"


def path(e):
    if e.get("off_path") is None:
        return "not checked"
    verdict = "OFF" if e["off_path"] else "on"
    return f"{verdict:>3} ({e['path_similarity']:.2f} vs {e['path_floor']:.2f})"


print("filter  activation  rank  robust rank  natural ratio  robust natural ratio  "
      "natural path (similarity vs floor)")
for key in sorted(entries, key=int):
    e = entries[key]
    print(f"{key:>6}  {e['final_activation']:10.2f}  {e['rank']:4}  {e['robust_rank']:11}  "
          f"{ratio(e['natural_ratio']):>13}  {ratio(e['robust_natural_ratio']):>20}  {path(e)}")
'''),
    ("md", r'''
Read the gallery from top to bottom. In a shallow layer a unit sees a small
patch of the image, and its filters tend to want colours, edges and
stripes, repeated across the image. A middle layer combines them into
textures. In a deep layer, whose units see most of the image, look for
parts of objects and scenes. That progression, from edges to textures to
parts, is what the depth of a CNN buys; the dreams show it without a single
training image.

The short ways in still exist: `kd.visualize(objective, base, steps=...)`
builds, compiles, fits and renders in one call, and
`kd.train(model, steps)`, `kd.render(model)` and `kd.generator_of(model)`
are thin wrappers around what this notebook did by hand.
'''),
]

# ---------------------------------------------------------------- 02 objectives

NB02 = [
    ("md", r'''
# 2. Objectives, parameterizations, transforms and priors

Notebook 1 maximized one thing, the mean activation of a filter. That choice
is the **objective**, and it is only one of several. kerasdream's objectives
compose like numbers: `Channel(...) + 0.1 * Diversity(...)`,
`Channel(...) - TotalVariation()`. Each gives one value per dream, to
maximize; the dream model's training step sums them over the dreams and
minimizes minus that sum. This notebook shows what each one does to the
picture, then the other knobs: how pixels are parameterized, random
transforms during training, and natural-image priors.

| objective | maximizes |
|---|---|
| `Neuron(layer, k)` | filter k at one position (the centre) |
| `Channel(layer, k)` | filter k averaged over all positions |
| `Channel("layer:pre", k)` | the same, read before the layer's activation (no ReLU6 cap) |
| `DeepDream(layer)` | the whole layer's mean squared activation |
| `ClassLogit(k)` | class k's score before the softmax (needs a classifier) |
| `Diversity(layer)` | how different the dreams of one batch are: **add** it |
| `AlphaNorm()`, `TotalVariation()` | image priors: **subtract** them as penalties |
'''),
    ("code", setup_cell("02")),
    ("code", r'''
import skimage.data
import skimage.transform

from kerasdream.evaluation.scoring import channel_means, robust_channel_means

base = kd.load_base()
LAYER, FILTERS = "conv_pw_8_relu", [0, 2, 7, 13]


def trained(objective, base=None, steps=STEPS, **kwargs):
    """DreamModel -> compile() -> fit(steps): a trained dream model (kd.visualize renders one)."""
    model = kd.DreamModel(objective, base, size=SIZE, **kwargs)
    model.compile()
    model.fit(steps)
    return model


def photo(name, size=SIZE):
    """A photo from scikit-image, square-cropped and resized, float pixels 0..255."""
    image = getattr(skimage.data, name)()
    side = min(image.shape[:2])
    image = image[:side, :side]
    return skimage.transform.resize(image, (size, size), anti_aliasing=True) * 255


def activations(images, layer=LAYER, pre=False):
    """Mean activation of every channel of `layer` on each image, shape (N, C)."""
    return channel_means(base, layer, images, "tf", pre_activation=pre)
'''),
    ("md", r'''
## Neuron versus Channel

`Neuron` asks for filter k at the centre cell only, so only the pixels that
cell can see (its receptive field) matter: they change, the rest of the
image stays close to its start. `Channel` asks for filter k everywhere, so
the pattern tiles the whole image.
'''),
    ("code", r'''
neurons = trained(kd.Neuron(LAYER, FILTERS)).render()
channels = trained(kd.Channel(LAYER, FILTERS)).render()
show(np.concatenate([neurons, channels]),
     [f"Neuron {k}" for k in FILTERS] + [f"Channel {k}" for k in FILTERS], columns=4)
'''),
    ("md", r'''
## Before the activation: `":pre"`

MobileNet's ReLU layers are ReLU6: they cut every value at 6. A unit pushed
past 6 reads 6 however hard it is driven, and there its gradient is zero,
so on the layer's own output a dream has nothing to gain beyond the cap. A
layer name ending in `":pre"` reads the value before the layer's activation
(here the batch-norm output that goes into the ReLU; for a convolution with
a built-in activation, its output before it). That is Lucid's `_pre_relu`
convention. Under each picture: the filter's mean activation on the layer's
output and, in brackets, before the ReLU.
'''),
    ("code", r'''
rows = {"Channel(LAYER, k)": channels,                  # the Channel dreams from above
        'Channel(LAYER + ":pre", k)': trained(kd.Channel(LAYER + ":pre", FILTERS)).render()}
for name, images in rows.items():
    post, pre = activations(images), activations(images, pre=True)
    show(images, [f"filter {k}: {post[j, k]:.2f} ({pre[j, k]:.1f})" for j, k in enumerate(FILTERS)],
         columns=4, title=name)
'''),
    ("md", r'''
## DeepDream: amplify what a layer already sees

`DeepDream(layer)` maximizes the energy of the whole layer, all filters at
once. Started from a photo (the generator's `set_images`) and trained
briefly at a fifth of the usual learning rate, it exaggerates whatever the
layer detects in the photo: a middle layer paints its textures over the
cat, a deep layer its larger shapes.
'''),
    ("code", r'''
from kerasdream.defaults import DEFAULT_LEARNING_RATE
from kerasdream.optimizers import default_optimizer

cat = photo("chelsea")
DREAM_STEPS = max(STEPS // 3, 1) if BUDGET == "full" else 3
deep_dreams = []
for layer in ["conv_pw_5_relu", "conv_pw_11_relu"]:
    model = kd.DreamModel(kd.DeepDream(layer), size=SIZE, num_dreams=1)
    model.generator.set_images(cat[None])              # start from the photo, not grey
    model.compile(default_optimizer(DEFAULT_LEARNING_RATE / 5))
    model.fit(DREAM_STEPS)
    deep_dreams.append(model.render()[0])
show([cat, *deep_dreams], ["photo", "DeepDream conv_pw_5_relu", "DeepDream conv_pw_11_relu"],
     columns=3, size=2.6)
'''),
    ("md", r'''
## Pixels versus Fourier

How a kernel row becomes an image is the **parameterization**. `"pixels"`
(the seed's method) gives every pixel its own number, squashed by a
sigmoid. `"fourier"` stores a 2-D spectrum instead, scaled by 1/frequency,
with decorrelated colours (as in Lucid), and turns it into pixels with an
inverse FFT. A gradient step then moves whole waves rather than single
pixels and favours low frequencies, so dreams tend to grow larger, smoother
shapes. (`"bounded"`, the pre-images paper's, keeps each pixel's colour
within a ball around grey.) All train with the same optimizer,
`default_optimizer()`, which `compile()` uses; the package's default
parameterization is printed below.
'''),
    ("code", r'''
from kerasdream.defaults import DEFAULT_PARAMETERIZATION

print(f"default parameterization: {DEFAULT_PARAMETERIZATION!r}")
timings, rows = {}, {}
for parameterization in ["pixels", "fourier"]:
    began = time.perf_counter()
    model = trained(kd.Channel(LAYER, FILTERS), parameterization=parameterization)
    timings[parameterization] = time.perf_counter() - began
    rows[parameterization] = model.render()
    print(f"{parameterization}: {timings[parameterization]:.1f} s")
acts = activations(np.concatenate([rows["pixels"], rows["fourier"]]))
show(np.concatenate([rows["pixels"], rows["fourier"]]),
     [f"{p} {k}: {acts[i * 4 + j, k]:.2f}" for i, p in enumerate(rows) for j, k in enumerate(FILTERS)],
     columns=4)
'''),
    ("md", r'''
## ClassLogit: what makes a classifier say "cat"?

A class score needs a network with a classification head, and the MobileNet
shipped with kerasdream has none (its ImageNet top would be a 1000-class
download). So we make a tiny classifier ourselves: a *copy* of MobileNet,
frozen the usual Keras way (`trainable = False`, so that only the new head
trains), a global average pool and a 4-way softmax layer, trained for a few
seconds on random crops of four scikit-image photos (cat, coffee,
astronaut, rocket). The copy keeps the shipped `base` untouched for the
rest of this notebook: kerasdream itself never changes a network, but
`classifier.fit` would. Any `keras.Model` works as a base; this one
contains its own `Rescaling` layer, because an in-memory model's pixels
(0..255) are fed as they are.

`ClassLogit(k)` maximizes class k's score *before* the softmax (the
pre-activation of the last layer), one class per dream.
'''),
    ("code", r'''
CLASSES = {"cat": "chelsea", "coffee": "coffee", "astronaut": "astronaut", "rocket": "rocket"}
CROPS = 32 if BUDGET == "full" else 4
rng = np.random.default_rng(0)


def random_crops(image, count):
    height, width = image.shape[:2]
    crops = []
    for _ in range(count):
        side = int(rng.uniform(0.4, 0.9) * min(height, width))
        y, x = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        crop = skimage.transform.resize(image[y:y + side, x:x + side], (SIZE, SIZE),
                                        anti_aliasing=True) * 255
        crops.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    return crops


x_train = np.stack([c for name in CLASSES.values()
                    for c in random_crops(getattr(skimage.data, name)(), CROPS)]).astype("float32")
y_train = np.repeat(np.arange(len(CLASSES)), CROPS)

keras.utils.set_random_seed(0)
backbone = keras.models.clone_model(base)          # our own copy of MobileNet ...
backbone.set_weights(base.get_weights())
backbone.trainable = False                         # ... frozen: only the head trains
inputs = keras.Input((None, None, 3))
x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(inputs)  # MobileNet's [-1, 1]
x = backbone(x)
x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
outputs = keras.layers.Dense(len(CLASSES), activation="softmax", name="classes")(x)
classifier = keras.Model(inputs, outputs, name="photo_classifier")
classifier.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                   metrics=["accuracy"])
classifier.fit(x_train, y_train, epochs=10 if BUDGET == "full" else 1, batch_size=32, verbose=0)
print(f"{len(x_train)} crops; training accuracy "
      f"{classifier.evaluate(x_train, y_train, verbose=0)[1]:.2f}")
show(x_train[::CROPS], list(CLASSES), columns=4, size=1.6)
'''),
    ("code", r'''
class_dreams, captions = [], []
for parameterization in ["pixels", "fourier"]:
    images = trained(kd.ClassLogit(list(range(len(CLASSES)))), classifier,
                     parameterization=parameterization).render()
    probabilities = classifier.predict(images.astype("float32"), verbose=0)
    class_dreams.append(images)
    captions += [f"{parameterization} '{name}': p={probabilities[k, k]:.2f}"
                 for k, name in enumerate(CLASSES)]
show(np.concatenate(class_dreams), captions, columns=4, size=2.2)
'''),
    ("md", r'''
Under each dream: the probability the classifier gives its class. Compare
the two rows: pixel dreams are often unreadable to us, while Fourier images
tend to show colours and shapes of the photos. These are pictures of *this*
classifier's evidence, learned from one photo per class, not of cats in
general.

## Diversity: several different dreams of one filter

Four dreams of the same filter, started from slightly different noise,
usually end up much alike. `Diversity(layer)` is **minus** the mean cosine
similarity between the dreams' Gram matrices (which channels fire together,
regardless of where), so maximizing it makes the dreams differ: **add** it,
`Channel(L, k) + 0.1 * Diversity(L)`; subtracting it would pull them
together. Its weight sets the trade against the filter's activation. It is
the one objective that couples the dreams of a batch. Above each row: the
Gram similarity of the four dreams, computed from `model.feature_values()`
(1 = identical styles).
'''),
    ("code", r'''
K = 7
results = {}
for weight in [0, 0.1, 5]:
    objective = kd.Channel(LAYER, [K] * 4)
    if weight:
        objective = objective + weight * kd.Diversity(LAYER)
    model = trained(objective)
    features = model.feature_values()[LAYER]
    similarity = -float(np.mean(keras.ops.convert_to_numpy(kd.Diversity(LAYER)(features))))
    results[repr(objective)] = (model.render(), similarity)
for name, (dreams, similarity) in results.items():
    acts = activations(dreams)[:, K]
    show(dreams, [f"filter {K}: {a:.2f}" for a in acts], columns=4, size=1.8,
         title=f"{name}\nGram similarity {similarity:.3f}")
'''),
    ("md", r'''
Under each dream, the mean activation of filter 7: diverse dreams usually
pay for their variety with some activation, and the weight sets that trade.

## Transforms: pad, jitter, scale, rotate

Without transforms, gradient ascent can find pixel-exact patterns: noise
that only works in exactly that position. Transforming the image a little
at every step makes the dream work wherever it sits. The package's default
is printed below; `kerasdream.transforms` has `Pad`, `Jitter`, `Scale` and
`Rotate`, and Lucid uses all four: `[Pad(12), Jitter(8), Scale(0.1),
Rotate(10)]`. Like Keras' own random layers their `seed` defaults to None:
the dream model then derives each one's seed from the run's `seed` and the
transform's position, so they draw independently and the same run seed
gives the same pictures. Transforms act only during training; the rendered
dream is untransformed.

Under each picture: the filter's activation on the dream as it is, and in
brackets its **robust** activation, the mean over fixed slightly shifted,
scaled and rotated views (`kerasdream.evaluation.scoring.robust_channel_means`). A
dream tuned to one exact position tends to lose much of its activation when
it moves.
'''),
    ("code", r'''
from kerasdream.defaults import DEFAULT_TRANSFORMS, TRANSFORM_CHOICES
from kerasdream.transforms import Jitter, Pad, Rotate, Scale

print(f"default transforms: {DEFAULT_TRANSFORMS!r} ({TRANSFORM_CHOICES[DEFAULT_TRANSFORMS]})")
variants = {
    "transforms=None": None,
    f"transforms={DEFAULT_TRANSFORMS!r} (the default)": DEFAULT_TRANSFORMS,
    "[Pad(12), Jitter(8), Scale(0.1), Rotate(10)]": [Pad(12), Jitter(8), Scale(0.1), Rotate(10)],
}
for name, transforms in variants.items():
    images = trained(kd.Channel(LAYER, FILTERS), transforms=transforms).render()
    acts = activations(images)
    robust = robust_channel_means(base, LAYER, images, "tf")
    show(images, [f"filter {k}: {acts[j, k]:.2f} ({robust[j, k]:.2f})" for j, k in enumerate(FILTERS)],
         columns=4, size=1.8, title=name)
'''),
    ("md", r'''
## Priors: AlphaNorm and TotalVariation

The pre-images paper (Mahendran & Vedaldi) adds two *natural-image priors*
to the energy, both on the image itself:

- `AlphaNorm()`: the mean of `(|pixel - 127.5| / 80) ** 6` over pixels; it
  barely notices moderate colours and punishes extreme ones, so dreams
  stay in a natural range of contrast.
- `TotalVariation()`: the mean squared difference between neighbouring
  pixels; it punishes high-frequency noise, so dreams become smooth.

They are penalties, so they are subtracted: `Channel(...) - TotalVariation()`.
Under each picture: the filter's activation, and the image's total variation
(TV, smaller is smoother) and standard deviation of pixel values (contrast).
'''),
    ("code", r'''
from kerasdream.objectives.priors import AlphaNorm, TotalVariation

channel = kd.Channel(LAYER, FILTERS)
variants = {
    "Channel": channel,
    "Channel - TotalVariation()": channel - TotalVariation(),
    "Channel - AlphaNorm()": channel - AlphaNorm(),
    "Channel - AlphaNorm() - TotalVariation()": channel - AlphaNorm() - TotalVariation(),
}
for name, objective in variants.items():
    images = trained(objective).render()
    acts = activations(images)
    tv = keras.ops.convert_to_numpy(TotalVariation()(images.astype("float32")))
    show(images, [f"filter {k}: {acts[j, k]:.2f}\nTV {tv[j]:.1f}, std {images[j].std():.0f}"
                  for j, k in enumerate(FILTERS)], columns=4, size=1.8, title=name)
'''),
    ("md", r'''
Compare TV and contrast across the rows: total variation pushes towards
smooth blobs of colour, the alpha-norm pulls extreme colours towards grey,
and the filter's activation shows what each costs. Weights decide the
balance: a large weight on either prior leaves little but grey. Notebook 3
uses both priors the way the paper does, to turn features back into a
photo.
'''),
    ("md", r'''
## Newer methods: MACO, directions, accentuation

**MACO** (Fel et al., 2023) fixes the image's Fourier *magnitude* to the
average spectrum of natural photos and trains only its *phase*, under random
crops and noise (`transforms="maco"`). The image keeps the photos' power at
every frequency, so it can never turn flat or grey, which helps most at deep
layers. While it trains, the model adds up how strongly the objective's
gradient reaches each pixel: the **transparency map** (`model.transparency()`).
`kerasdream.param.maco.overlay` shows the dream through it, as Xplique's
`plot_maco` does: where the filter did not care, the picture fades out.
'''),
    ("code", r'''
from kerasdream.param import maco

DEEP = "conv_pw_13_relu:pre"
model = trained(kd.Channel(DEEP, FILTERS), parameterization="maco", transforms="maco")
images, maps = model.render(), model.transparency()
show(images, [f"MACO, filter {k}" for k in FILTERS], columns=4)
show(np.stack([maco.overlay(i, m) for i, m in zip(images, maps)]),  # RGBA: alpha = the map
     [f"filter {k} through its map" for k in FILTERS], columns=4)
'''),
    ("md", r'''
**Directions.** `Direction(layer, v)` maximizes the mean dot product of the
layer's activation with a vector `v` in channel space (times the cosine to
the power `cossim_pow`, which favours pointing along `v` over being long); a
one-hot `v` is `Channel`. `mean_direction` gives the mean activation of
photos, so "what this cat excites" and "cat minus coffee" can be dreamed,
both in one batch (one vector per dream).
'''),
    ("code", r'''
from kerasdream.objectives.directions import Direction, mean_direction

cat, coffee = photo("chelsea"), photo("coffee")
towards_cat = mean_direction(base, LAYER, cat)
vectors = np.stack([towards_cat, towards_cat - mean_direction(base, LAYER, coffee)])
images = trained(Direction(LAYER, vectors, cossim_pow=2)).render()
show(np.concatenate([[cat, coffee], images]),
     ["cat", "coffee", "cat's direction", "cat minus coffee"], columns=4)
'''),
    ("md", r'''
**Feature accentuation** (Hamblin et al., 2024) starts from a photo and
pushes one filter up while a distance penalty keeps the picture close to the
photo (in pixels here; `distance=` a layer name keeps its features close). It
shows what in *this* photo the filter responds to. At `strength=0` the
photo comes back unchanged. On the command line:
`kerasdream accentuate --image cat.png --layer conv_pw_8_relu --filters 0,2`
writes one picture per filter beside the photo.
'''),
    ("code", r'''
accentuated = kd.accentuate(cat, LAYER, FILTERS, steps=STEPS)
before, after = activations(cat[None], pre=True), activations(accentuated, pre=True)
show(np.concatenate([[cat], accentuated]),
     ["photo"] + [f"filter {k}: {before[0, k]:.1f} -> {after[j, k]:.1f}"
                  for j, k in enumerate(FILTERS)], columns=5)
'''),
]

# --------------------------------------------------------------- 03 pre-images

NB03 = [
    ("md", r'''
# 3. Natural pre-images: inversion and caricature

Mahendran and Vedaldi ("Visualizing Deep Convolutional Neural Networks Using
Natural Pre-images", IJCV 2016) treat three visualizations as one problem:
find a natural-looking image `x` whose features `Phi(x)` at some layer have
a notable property. In their energy

```
E(x) = C * loss(Phi(jitter(x)), Phi0) + R_alpha(x) + R_TV(x)
```

the priors `R_alpha` (alpha-norm, alpha = 6) and `R_TV` (total variation)
keep `x` natural, and the loss picks the visualization:

- **inversion**: `loss = ||Phi(x) - Phi0||^2 / ||Phi0||^2` with `Phi0` the
  features of a photo: which images does the network think are the photo?
- **activation maximization**: one filter (notebooks 1 and 2);
- **caricature**: `loss = -<Phi(x), Phi0>` starting from the photo itself:
  exaggerate what the layer sees in it.

kerasdream writes each as an objective to maximize (minus the energy), for
example `C * Inversion(layer, photo) - AlphaNorm() - TotalVariation()`, and
trains it like any dream: a Dense kernel, a `DreamModel`, `compile`, `fit`.
`kerasdream.preimages.preimage(kind, photo, layer, ...)` does all of it with
its own defaults (printed below): a Fourier image, no jitter, and Adam with
a learning-rate schedule of its own. It returns the image with its
**relative feature error** `||Phi(x) - Phi0|| / ||Phi0||`, the paper's
measure of reconstruction quality (0 = the same features as the photo).
'''),
    ("code", setup_cell("03")),
    ("code", r'''
import skimage.data
import skimage.transform

from kerasdream.evaluation.scoring import relative_error
from kerasdream.preimages import (DEFAULT_WEIGHTS, PREIMAGE_DEFAULTS, preimage, preimage_objective,
                                  preimage_optimizer)

base = kd.load_base()
astronaut = skimage.transform.resize(skimage.data.astronaut(), (SIZE, SIZE), anti_aliasing=True)
photo = (astronaut * 255).astype("float32")
INVERT_STEPS = PREIMAGE_DEFAULTS["steps"] if BUDGET == "full" else 5

print("pre-image defaults:", PREIMAGE_DEFAULTS, " C:", DEFAULT_WEIGHTS)
schedule = preimage_optimizer(INVERT_STEPS).get_config()["learning_rate"]["config"]
print(f"Adam learning rate {schedule['values'][0]:g}, then {schedule['values'][1]:g} "
      f"after step {schedule['boundaries'][0]} of {INVERT_STEPS}")
objective = preimage_objective("invert", "conv_pw_5_relu", photo)
print("the energy, as an objective to maximize:",
      " ".join(f"{weight:+g} * {type(term).__name__}" for weight, term in objective.terms))
show([photo], ["the photo"], columns=1, size=2.4)
'''),
    ("md", r'''
## Inverting features at increasing depth

We reconstruct the photo from the features of eight layers, from the first
convolution (`conv1_relu`, 8 channels at half resolution) to the last
(`conv_pw_13_relu`, 256 channels at 1/32 of it), with `preimage`'s
defaults. Under each picture: the relative feature error.
'''),
    ("code", r'''
LAYERS = ["conv1_relu", "conv_pw_1_relu", "conv_pw_3_relu", "conv_pw_6_relu",
          "conv_pw_8_relu", "conv_pw_10_relu", "conv_pw_12_relu", "conv_pw_13_relu"]
if BUDGET == "small":
    LAYERS = LAYERS[::3]   # a smoke run needs only a few
inversions, errors = [], []
began = time.perf_counter()
for layer in LAYERS:
    image, error = preimage("invert", photo, layer, steps=INVERT_STEPS)
    inversions.append(image)
    errors.append(error)
print(f"{len(LAYERS)} inversions in {time.perf_counter() - began:.0f} s")
print("relative feature errors:", ", ".join(f"{l} {e:.3f}" for l, e in zip(LAYERS, errors)))
show(inversions, [f"{layer}\nerror {e:.3f}" for layer, e in zip(LAYERS, errors)], columns=8)
'''),
    ("md", r'''
What to look for, as in the paper: shallow layers keep the geometry, and
the fewer channels a layer has, the less of the colour it can pin down.
Deeper, the layout and the parts (face, helmet, flag, badges) remain while
fine texture turns into the network's own version of it; the last layer,
a few cells of 256 channels, keeps the least, because many very different
images share those features. Compare the errors: they say how much of the
photo each layer still holds.

## Jitter, and the paper's last steps

The paper jitters the image during the optimization and ends with a few
steps at a tenth of the learning rate **without** jitter: jitter keeps the
image robust while it forms, but as long as it is on, the image never
settles on the exact features, and the error is measured on the
unjittered image. `preimage` skips the jitter altogether; its Adam schedule
(printed above) keeps the paper's tenth of the rate for the end.

To see the difference we build the paper's version from the library's
parts: a `DreamModel` with jitter trained up to the schedule's boundary,
then the *same* generator wrapped in a second model without transforms
(`generator=`), compiled with the *same* optimizer, whose step count and
schedule go on where they stopped.
'''),
    ("code", r'''
def invert_like_the_paper(photo, layer, steps=INVERT_STEPS):
    """Jitter up to the schedule's boundary, then the last steps without it."""
    objective = preimage_objective("invert", layer, photo)
    optimizer = preimage_optimizer(steps)
    boundary = optimizer.get_config()["learning_rate"]["config"]["boundaries"][0]
    jittered = kd.DreamModel(objective, size=photo.shape[:2], num_dreams=1, transforms="default",
                             parameterization=PREIMAGE_DEFAULTS["parameterization"])
    jittered.compile(optimizer)
    jittered.fit(boundary)
    still = kd.DreamModel(objective, generator=jittered.generator, transforms=None)
    still.compile(optimizer)               # the same Adam: its schedule continues
    still.fit(steps - boundary)
    image = still.render()
    return image[0], float(relative_error(base, layer, image, photo, "tf")[0])


COMPARE = LAYERS[1::2]
paper = [invert_like_the_paper(photo, layer) for layer in COMPARE]
show([image for image, _ in paper], [f"{layer}\nerror {e:.3f}" for layer, (_, e) in zip(COMPARE, paper)],
     columns=len(COMPARE), size=2.0, title="jitter, then the last steps without it (the paper)")

fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(LAYERS, errors, "o-", label="preimage(): no jitter")
ax.plot(COMPARE, [e for _, e in paper], "o-", label="jitter, then without (paper)")
ax.set_xticks(range(len(LAYERS)), [layer.replace("_relu", "") for layer in LAYERS], rotation=30)
ax.set_ylabel("relative feature error"), ax.set_ylim(0, None), ax.legend()
plt.show()
'''),
    ("md", r'''
## The weight C

`C` trades the features against the priors. Small `C`: smooth, grey,
natural but wrong (the priors win). Large `C`: closer features, and the
priors matter less and less. We try a few weights around `preimage`'s
default (printed at the top).
'''),
    ("code", r'''
LAYER = "conv_pw_6_relu"
default = DEFAULT_WEIGHTS["invert"]
weights = [default / 100, default / 10, default, default * 10] if BUDGET == "full" else [default / 100, default]
images, captions = [], []
for weight in weights:
    image, error = preimage("invert", photo, LAYER, steps=INVERT_STEPS, weight=weight)
    images.append(image)
    captions.append(f"C = {weight:g}\nerror {error:.3f}")
show(images, captions, columns=4, size=2.2, title=f"inversion of {LAYER}")
'''),
    ("md", r'''
## Caricature

A caricature starts from the photo and maximizes `<Phi(x), Phi0>` with
`Phi0 = max(Phi(photo), 0) / ||max(Phi(photo), 0)||^2`: every feature the
layer finds in the photo is pushed up, in proportion to how strongly it is
there. The result shows what the layer *looks at* in this photo: expect
fine stripes and edges from a shallow layer, swirls and textures from a
middle one, and rounder, part-like shapes from a deep one. Its default
weight (printed at the top) is smaller than inversion's, which keeps the
photo recognizable while its features grow. (The error under each picture
now measures how far the caricature has moved from the photo's features.)
'''),
    ("code", r'''
caricatures, captions = [photo], ["photo"]
for layer in ["conv_pw_5_relu", "conv_pw_8_relu", "conv_pw_11_relu"]:
    image, error = preimage("caricature", photo, layer, steps=INVERT_STEPS)
    caricatures.append(image)
    captions.append(f"{layer}\nerror {error:.3f}")
show(caricatures, captions, columns=4, size=2.4)
'''),
    ("md", r'''
The command line does the same with files:
`kerasdream invert --layer conv_pw_6_relu --image photo.png --out inverted`
and `kerasdream caricature ...` write the result, the photo and a JSON file
with the relative error.
'''),
]

# ------------------------------------------------------------ 04 your own model

NB04 = [
    ("md", r'''
# 4. Your own model

Everything so far used the MobileNet that ships with kerasdream. Most people
want to look inside *their* network. This notebook takes the path a user
with their own model takes:

1. train a small CNN (here on scikit-learn's 8x8 handwritten digits,
   grayscale, upsampled to 32x32), built the way most people build one:
   `keras.Sequential`, no layer names;
2. save it as a `.keras` file;
3. dream its filters with the command line (`kerasdream filters --model
   digits.keras ...`);
4. dream its class scores with the Python API (`ClassLogit`).

One rule: **a model gets its pixels as they are**, 0..255 (a model file's
or your own in-memory model's preprocessing defaults to `"none"`, because
kerasdream cannot know how you scaled your training data). So put the
scaling into the model, as a `Rescaling` layer, and train it on 0..255
images. Then the model is self-contained, for kerasdream and for anyone
else who uses it.
'''),
    ("code", setup_cell("04", extra='EPOCHS = 15 if BUDGET == "full" else 1\n')),
    ("code", r'''
import skimage.transform
from sklearn.datasets import load_digits

digits = load_digits()                                 # 1797 images, 8x8, values 0..16
images = np.stack([skimage.transform.resize(image * (255 / 16), (32, 32), order=1)
                   for image in digits.images]).astype("float32")[..., None]   # 0..255
labels = digits.target
order = np.random.default_rng(0).permutation(len(labels))
train, test = order[:1400], order[1400:]
print("images:", images.shape, f"pixel values {images.min():.0f}..{images.max():.0f}")
show(np.concatenate([np.kron(digits.images[:8, ..., None] * 255 / 16, np.ones((4, 4, 1))), images[:8]]),
     [f"8x8: {d}" for d in labels[:8]] + [f"32x32: {d}" for d in labels[:8]], size=1.0)
'''),
    ("md", r'''
## A small CNN with its own Rescaling

Three convolution blocks and a Dense classifier; the first layer rescales
0..255 to 0..1. No layer has a name of its own, so Keras numbers them:
`conv2d`, `conv2d_1`, ... (the numbers depend on how many such layers this
Python session has built before, so we read the names from the model
rather than typing them).
'''),
    ("code", r'''
keras.utils.set_random_seed(0)
classifier = keras.Sequential([
    keras.Input((32, 32, 1)),
    keras.layers.Rescaling(1 / 255),                   # the model's own preprocessing
    keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.3),
    keras.layers.Dense(10, activation="softmax"),
])
classifier.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
classifier.fit(images[train], labels[train], epochs=EPOCHS, batch_size=32, verbose=0)
print(f"test accuracy: {classifier.evaluate(images[test], labels[test], verbose=0)[1]:.3f}")

CONVS = [layer.name for layer in classifier.layers if isinstance(layer, keras.layers.Conv2D)]
print("its convolutions, as Keras named them:", CONVS)

os.makedirs(OUT, exist_ok=True)
MODEL_FILE = f"{OUT}/digits.keras"
classifier.save(MODEL_FILE)
print("saved", MODEL_FILE, f"({os.path.getsize(MODEL_FILE) / 1e3:.0f} kB)")
'''),
    ("md", r'''
## Which layers, which filters

`kerasdream layers --model digits.keras` lists the layers a dream can
target: those with a `(batch, height, width, channels)` output, marked `*`.
From Python, `kd.load_base(path)` loads the file as kerasdream sees it and
`kd.list_layers` gives the same table.
'''),
    ("code", r'''
for info in kd.list_layers(kd.load_base(MODEL_FILE)):
    mark = "*" if info.dreamable else " "
    print(f"{mark} {info.path:<16} {info.class_name:<20} {str(info.output_shape):<20} {info.channels}")
'''),
    ("md", r'''
`kerasdream filters` dreams the chosen filters of the chosen layers, 16 in
one `fit`, and writes a PNG per filter, a grid per layer, `metrics.json`
(each filter's activation before and after, its rank among the layer's
channels, ...) and a small dream model per filter. `--size 32` matches the
model's input; the dreams are grayscale because the model's input has one
channel.

On an image this small, a filter's mean over the whole image is mostly won
by a flat white or black image. `--objective neuron` asks instead for the
unit at the centre: only the pixels it can see (its receptive field)
change, and they show the pattern it looks for. With `--parameterization
pixels` every pixel is free, which suits 32x32 digits.
'''),
    ("code", r'''
LAYER_OPTIONS = " ".join(f"--layer {name}" for name in CONVS)
!kerasdream filters --model {MODEL_FILE} {LAYER_OPTIONS} --filters 0-15 --objective neuron --parameterization pixels --size 32 --steps {STEPS} --out {OUT}/filters --models-dir {OUT}/models --quiet
'''),
    ("code", r'''
import json

from PIL import Image

# The centre unit sees only its receptive field: zoom in on it (3, 8 and 18 pixels wide).
crops = dict(zip(CONVS, [slice(12, 20), slice(10, 22), slice(6, 28)]))
for layer, crop in crops.items():
    dreams = [np.asarray(Image.open(f"{OUT}/filters/{layer}/filter_{k}.png"))[crop, crop, None]
              for k in range(16)]
    with open(f"{OUT}/filters/{layer}/metrics.json") as file:
        metrics = json.load(file)["filters"]
    show(dreams, [f"{k}: {metrics[str(k)]['final_activation']:.1f}" for k in range(16)],
         columns=16, size=0.9,
         title=f"{layer}: the centre unit of filters 0-15, zoomed in (activation under each)")
'''),
    ("md", r'''
The receptive field grows with depth: a unit of the first convolution sees
3x3 pixels, one of the second 8x8 (after one pooling), one of the third
18x18, more than half a digit. Expect dots and short edges first, then
strokes and corners, then arrangements of curves and bars: the pieces
digits are made of. A model file is a base like any other: everything in
notebooks 1-3 works with `base="path/to/model.keras"`, and so do the
`":pre"` names (`f"{CONVS[2]}:pre"` reads the third convolution before its
ReLU).

## The API: what does the model think a "3" looks like?

`ClassLogit(k)` maximizes the score of class k before the softmax; `layer`
defaults to the model's last layer. Ten dreams, one per digit, train in one
`fit`. This time we pass the in-memory `classifier` itself as the base:
kerasdream reads its layers without changing them (we check below that its
weights and `trainable` flags are as they were). Raw pixel dreams tend to
come out as hard black-and-white strokes (nothing stops the sigmoid from
saturating); subtracting the priors of notebook 2 smooths them. Under each
dream: what the classifier itself says it is, and how sure it is.
'''),
    ("code", r'''
from kerasdream.objectives.priors import AlphaNorm, TotalVariation

weights_before = [w.copy() for w in classifier.get_weights()]
flags_before = [layer.trainable for layer in classifier.layers]
classes = kd.ClassLogit(list(range(10)))
rows = {
    "ClassLogit": classes,
    "- 0.3 TV - 0.3 AlphaNorm": classes - 0.3 * TotalVariation() - 0.3 * AlphaNorm(),
}
dreams, captions = [], []
for name, objective in rows.items():
    model = kd.DreamModel(objective, classifier, size=32, parameterization="pixels")
    model.compile()
    model.fit(STEPS)
    images = model.render()
    predicted = classifier.predict(images.astype("float32"), verbose=0)
    dreams.append(images)
    captions += [f"class {k}\nsays {p.argmax()} ({p.max():.2f})" for k, p in enumerate(predicted)]
print("preprocessing used for your model:", model.preprocess.mode)
print("classifier unchanged:",
      all(np.array_equal(a, b) for a, b in zip(weights_before, classifier.get_weights()))
      and flags_before == [layer.trainable for layer in classifier.layers])
show(np.concatenate(dreams), captions, columns=10, size=1.4)
'''),
    ("md", r'''
Top row: plain class scores; bottom row: with the priors. These are the
digits as the network sees them: look for the 0's ring and the 8's two
loops; other classes may be just a few strokes in the places that matter
for *this* network, which only ever saw centred 8x8 digits.

If a dream of your own model comes out as grey noise or saturated mush,
check the input range first: does the model expect 0..255 (then include
`Rescaling`), or pass `preprocess="unit"` / `"tf"` to `kd.DreamModel`
(`--preprocess` on the command line) to say how the model was trained.
'''),
]

# ------------------------------------------------------- 05 reload and resume

NB05 = [
    ("md", r'''
# 5. Save, reload and resume

Long runs (a whole layer, every layer) are worth keeping. `kerasdream
filters` and `kerasdream gallery` save one small model per filter next to
its PNG. Such a file holds only the dream's **generator** (the Dense kernel
with its reshape and parameterization) and the optimizer's state for that
kernel row, not the base network's weights; it records by reference which
network, objective and transforms it was trained with. So you can

- load it (`kerasdream.saving.load_dream`, or plain
  `keras.models.load_model(path, safe_mode=True)`),
- render it,
- rebuild the full trainable dream model around it (`kd.rebuild`) and
  train it further, exactly as if it had never stopped,
- or let a whole run pick up where it stopped (`--resume`).
'''),
    ("code", setup_cell("05")),
    ("md", r'''
## A short run to start from

Four filters of a middle layer, trained for only half the steps, with the
package's default settings. `kerasdream.runs.gallery.run_gallery` is what the
command line runs; this cell is the same as

```
kerasdream filters --layer conv_pw_5_relu --filters 0-3 --size SIZE --steps HALF \
    --out dreams --models-dir models
```
'''),
    ("code", r'''
from kerasdream.network.bases import BaseSpec
from kerasdream.runs.gallery import DreamSettings, run_gallery

HALF = max(STEPS // 2, 1)
LAYER = "conv_pw_5_relu"


def dream_filters(steps, folder="dreams", resume=False):
    # Filters 0-3 of LAYER: PNGs in OUT/<folder>, one dream model per filter in OUT/models-<folder>.
    settings = DreamSettings(size=SIZE, steps=steps)   # every other setting: the defaults
    return run_gallery(BaseSpec(), [LAYER], "0-3", settings, out_dir=f"{OUT}/{folder}",
                       models_dir=f"{OUT}/models-{folder}", resume=resume, quiet=True)


dream_filters(HALF);
'''),
    ("code", r'''
import glob

paths = sorted(glob.glob(f"{OUT}/models-dreams/*/*/filter_*.keras"))
for path in paths:
    print(f"{path}  {os.path.getsize(path) / 1e3:.0f} kB")
PATH = paths[0]
'''),
    ("md", r'''
The files sit under `models/<network>/<layer>/filter_<k>.keras`. Each is
about the size of one dream's kernel row plus the optimizer's state for it;
MobileNet's weights are not in it.

## Load and render

`kerasdream.saving.load_dream` loads the generator (with `safe_mode=True`: no
Python code is deserialized, only registered Keras classes). It renders on
its own (`generator.render()`). Its `training_state()` is the saved
optimizer state, `(slots, dreams, raw size)`, and the number of steps it
was trained for.
'''),
    ("code", r'''
from kerasdream.saving import load_dream, save_dream

generator = load_dream(PATH)
print(type(generator).__name__, "with", generator.num_dreams, "dream of shape", generator.image_shape)
parameterization = generator.parameterization
print(f"parameterization: {type(parameterization).__name__}, kernel of {parameterization.raw_size:,} "
      f"numbers {tuple(parameterization.raw_shape)}")
print("base network:", generator.spec["base"])
print("objective:   ", keras.saving.deserialize_keras_object(generator.spec["objective"]))
print("transforms:  ", [t["class_name"] for t in generator.spec["transforms"]])
slots, steps = generator.training_state()
print(f"optimizer state: slots {slots.shape}, after {steps} steps")
loaded = generator.render()[0]
show([loaded], [os.path.basename(PATH)], columns=1, size=2.4)
'''),
    ("md", r'''
## Plain Keras can load it too

The generator is an ordinary Keras model whose classes are registered as
serializable, so `keras.models.load_model` with `safe_mode=True` reads the
same file once `kerasdream` is imported. Its render is identical.
'''),
    ("code", r'''
plain = keras.models.load_model(PATH, safe_mode=True)
print(type(plain).__name__, "- same pixels:", np.array_equal(plain.render()[0], loaded))
'''),
    ("md", r'''
## Rebuild and train further: half + half = all at once

`kd.rebuild(generator)` reconstructs the whole dream model (network,
preprocessing, transforms, objective) around the loaded generator, using the
references it saved. Its `compile()` restores the saved optimizer state
(momentum and step count) and moves the transforms' random streams on to
the same step, so training the other half of the steps continues the
dream where it stopped. We compare it with a fresh `DreamModel` trained all
the steps at once: close, but not the same bytes, because the gallery
trained the first half in a batch of four dreams and this model trains the
second alone, and float32 sums over another batch shape round otherwise
(the gallery's own resume below keeps the batch and is exact). Under each
picture: the filter's mean activation.
'''),
    ("code", r'''
from kerasdream.evaluation.scoring import channel_means

model = kd.rebuild(generator)
k = int(os.path.basename(PATH)[len("filter_"):-len(".keras")])  # the dream's filter
model.compile()                            # restores the saved optimizer state
print("optimizer resumes at step", int(model.optimizer.iterations))
model.fit(STEPS - HALF)
longer = model.render()[0]

# The same dream trained in one go: the gallery's objective for this filter, the same seed.
at_once = kd.DreamModel(kd.gallery_objective(LAYER, k), size=SIZE, row_keys=[k])
at_once.compile()
at_once.fit(STEPS)
print(f"{HALF} + {STEPS - HALF} steps vs {STEPS} at once: largest pixel difference "
      f"{np.abs(longer.astype(int) - at_once.render()[0].astype(int)).max()}")

acts = channel_means(kd.load_base(), LAYER, np.stack([loaded, longer]), model.preprocess.mode)[:, k]
show([loaded, longer], [f"after {HALF} steps: {acts[0]:.2f}", f"after {STEPS}: {acts[1]:.2f}"],
     columns=2, size=2.4)
'''),
    ("md", r'''
To save it again *with* its optimizer state, save the generator's row
together with the model's current `training_state()`, as the gallery does
(plain `save_dream(model.generator, path)` saves the generator as it is).
'''),
    ("code", r'''
LONGER = f"{OUT}/filter_{k}_longer.keras"
save_dream(model.generator.select([0], model.training_state()), LONGER)
print("saved", LONGER, "- steps recorded:", load_dream(LONGER).training_state()[1])
'''),
    ("md", r'''
## Resuming a whole run

Running the same `kerasdream filters` command again skips every dream that
is already done. With `--resume` and a larger `--steps`, it instead loads
each saved dream, with its optimizer state, and trains only the missing
steps, here from `HALF` to `STEPS`. An interrupted run (Ctrl-C) is finished
the same way: run the command again. From Python that is
`run_gallery(..., resume=True)`:

```
kerasdream filters --layer conv_pw_5_relu --filters 0-3 --size SIZE --steps STEPS \
    --out dreams --models-dir models --resume
```

`metrics.json` records each dream's steps, and its activation when this run
began: that of the saved half-trained dream, not of a grey start. We also
run the same four filters for all the steps at once, in another folder, to
compare the pictures.
'''),
    ("code", r'''
import json

from PIL import Image

dream_filters(STEPS, resume=True)
dream_filters(STEPS, folder="at_once")
with open(f"{OUT}/dreams/{LAYER}/metrics.json") as file:
    metrics = json.load(file)["filters"]
for key, entry in sorted(metrics.items()):
    print(f"filter {key}: {entry['steps']} steps; activation {entry['start_activation']:.2f} "
          f"when resumed, {entry['final_activation']:.2f} now")


def pngs(folder):
    return np.stack([np.asarray(Image.open(f"{OUT}/{folder}/{LAYER}/filter_{k}.png")) for k in range(4)])


resumed = pngs("dreams")
print("resumed vs at once: largest pixel difference",
      np.abs(resumed.astype(int) - pngs("at_once").astype(int)).max())
show(resumed, [f"filter {k}, {STEPS} steps" for k in range(4)], columns=4, size=2.0)
'''),
]

# ------------------------------------------------------------ 06 watch it learn

NB06 = [
    ("md", r"""
# 6. Watch it learn

Feature visualization usually looks at a *finished* network. But a dream
is itself a `fit`, so it can run inside yours: `kd.DreamCallback` dreams
on your model while it trains, once before the first epoch and after every
epoch, and shows what the filters or classes pick up as training goes on.

- Every dream starts from **the same seeded image**, so two epochs' pictures
  differ only because the network changed.
- It **does not change what your model learns**: the dream trains its own
  kernel with its own optimizer, reads your layers with `training=False`,
  and puts every global random state back (Python's, NumPy's, Keras',
  TensorFlow's). Below we check that the final weights are bitwise those of
  the same seeded run without it.
- It writes a labelled grid per epoch, a GIF per dream, and TensorBoard
  images (step = epochs trained).

Afterwards, `kerasdream evolve` dreams the same filters across saved
checkpoints.
"""),
    ("code", setup_cell("06", extra=(
        'EPOCHS, TRAIN = (10, 1400) if BUDGET == "full" else (3, 300)\n'))),
    ("code", r"""
import skimage.transform
from sklearn.datasets import load_digits

from kerasdream.dream_callback import DEFAULT_CALLBACK_STEPS

DREAM_STEPS = DEFAULT_CALLBACK_STEPS if BUDGET == "full" else 5   # a dream per epoch
EVOLVE_STEPS = DEFAULT_STEPS if BUDGET == "full" else 5            # a dream per checkpoint
digits = load_digits()                                 # 1797 images, 8x8, values 0..16
images = np.stack([skimage.transform.resize(image * (255 / 16), (32, 32), order=1)
                   for image in digits.images]).astype("float32")[..., None]   # 0..255
labels = digits.target
order = np.random.default_rng(0).permutation(len(labels))
train, test = order[:TRAIN], order[1400:]
print(f"{len(train)} training images, {len(test)} test images, 32x32, values 0..255; "
      f"{EPOCHS} epochs, {DREAM_STEPS} dream steps an epoch")
"""),
    ("md", r"""
## A small CNN, a callback and a checkpoint per epoch

The CNN of notebook 4 (its own `Rescaling`, Keras' default layer names).
`kd.ClassLogit(range(10))` dreams the ten class scores before the softmax:
what the network thinks each digit looks like, epoch by epoch. Pixel
dreams suit 32x32 digits. `keras.callbacks.ModelCheckpoint` saves the model
after every epoch, for `kerasdream evolve` below; we save the untrained
model as epoch 0 ourselves.

The progress line shows what each epoch's dream cost (`dream_seconds`) and
the dreams' mean class score (`dream_activation`); both go into `History`.
"""),
    ("code", r"""
def digits_cnn():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((32, 32, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


classifier = digits_cnn()
os.makedirs(f"{OUT}/ckpt", exist_ok=True)
classifier.save(f"{OUT}/ckpt/epoch_0.keras")
watch = kd.DreamCallback(kd.ClassLogit(list(range(10))), steps=DREAM_STEPS,
                         parameterization="pixels", out_dir=f"{OUT}/classes",
                         log_dir=f"{OUT}/logs")
checkpoints = keras.callbacks.ModelCheckpoint(f"{OUT}/ckpt/epoch_{{epoch}}.keras")
began = time.perf_counter()
history = classifier.fit(images[train], labels[train], epochs=EPOCHS, batch_size=32, verbose=2,
                         callbacks=[watch, checkpoints])
print(f"{time.perf_counter() - began:.1f} s in all, {sum(watch.seconds.values()):.1f} s of it "
      f"dreaming; test accuracy {classifier.evaluate(images[test], labels[test], verbose=0)[1]:.3f}")
"""),
    ("md", r"""
## The same run without the callback

Same seed, same data, same shuffling and dropout: the weights must come
out bit for bit the same.
"""),
    ("code", r"""
plain = digits_cnn()
plain.fit(images[train], labels[train], epochs=EPOCHS, batch_size=32, verbose=0)
print("weights bitwise equal with and without the callback:",
      all(np.array_equal(a, b) for a, b in zip(plain.get_weights(), classifier.get_weights())))
"""),
    ("md", r"""
## Epochs 0, 1, 3, 10 side by side

`watch.series` holds every epoch's dreams (`epoch_NNN.png` are the same
grids as files). Before training (epoch 0) the class dreams are fine
noise that the random network happens to score; after one epoch they are
blobs and strokes, and the 0 already has its ring; later epochs mostly
sharpen and shift what is there. Most classes never look like a written
digit: a dream shows what raises that class's score for *this* network,
often just the strokes that tell it from the other nine.
"""),
    ("code", r"""
shown = [e for e in (0, 1, 3, 10) if e in watch.activations]
frames = dict(zip(sorted(watch.activations), watch.series.frames))
show(np.concatenate([frames[e] for e in shown]),
     [f"epoch {e}: {k}" for e in shown for k in range(10)], columns=10, size=1.1)
print("files:", sorted(os.listdir(f"{OUT}/classes"))[:6], "...")
"""),
    ("md", r"""
## TensorBoard

The images went to `logs/dreams` (a TensorBoard run of their own; step =
epochs trained) with each dream's score as a scalar. Look at them with

```
tensorboard --logdir kerasdream-output/06/logs
```

(the Images tab; `pip install tensorboard` if you do not have it:
kerasdream writes the event files with TensorFlow alone). Here we read the
event file back instead, to show what is in it. A
`keras.callbacks.TensorBoard(log_dir)` listed *after* the dream callback
also records `dream_seconds` and `dream_activation` with the losses.
"""),
    ("code", r"""
import glob

import tensorflow as tf

steps_by_tag = {}
for path in glob.glob(f"{OUT}/logs/dreams/events.out.tfevents.*"):
    for event in tf.compat.v1.train.summary_iterator(path):
        for value in event.summary.value:
            steps_by_tag.setdefault(value.tag, []).append(event.step)
for tag in ["dreams/grid", "dreams/class_3", "dream_activation/class_3"]:
    print(f"{tag:<26} steps {steps_by_tag[tag]}")
print(len(steps_by_tag), "tags in all")
"""),
    ("md", r"""
## From saved checkpoints: `kerasdream evolve`

The checkpoints `epoch_0.keras` ... are one network at successive moments.
`kerasdream evolve` dreams the same filters on every one of them (sorted
naturally: `epoch_2` before `epoch_10`), with one dream model whose network
gets each checkpoint's weights in turn, and writes a strip per filter (one
column per checkpoint), a GIF per filter and `grid.gif`. Quote the pattern,
so the shell passes it on. Here: 8 filters of the last convolution, with
the package's default dream settings (read before its ReLU, as `kerasdream
filters` does). We run the command in-process with `kerasdream.cli.commands.main`
(the same words as on the command line, without a second TensorFlow
start-up).
"""),
    ("code", r"""
from kerasdream.cli.commands import main

CONV = [layer.name for layer in classifier.layers if isinstance(layer, keras.layers.Conv2D)][-1]
command = ["evolve", "--model", f"{OUT}/ckpt/epoch_*.keras", "--layer", CONV, "--filters", "0-7",
           "--steps", str(EVOLVE_STEPS), "--out", f"{OUT}/evolve"]
print("kerasdream", " ".join(f"'{word}'" if "*" in word else word for word in command))
assert main(command) == 0
"""),
    ("code", r"""
from PIL import Image

for k in (1, 4, 5) if BUDGET == "full" else (0,):
    strip = np.asarray(Image.open(f"{OUT}/evolve/filter_{k}.png"))
    fig, ax = plt.subplots(figsize=(strip.shape[1] / 55, strip.shape[0] / 55))
    ax.imshow(strip)
    ax.axis("off")
    plt.show()
print(sorted(f for f in os.listdir(f"{OUT}/evolve") if f.endswith(".gif")))
"""),
    ("md", r"""
Each strip is one filter from the untrained network (left) to the trained
one (right). Early filters often settle within the first epochs; the
checkpoints show when. The same works on any series of `.keras` files, say
the checkpoints of a run you trained last week.
"""),
]

NOTEBOOKS = {
    "01_dream_a_filter.ipynb": NB01,
    "02_objectives.ipynb": NB02,
    "03_pre_images.ipynb": NB03,
    "04_your_own_model.ipynb": NB04,
    "05_reload_and_resume.ipynb": NB05,
    "06_watch_it_learn.ipynb": NB06,
}


def build(cells) -> nbformat.NotebookNode:
    notebook = new_notebook()
    notebook.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    for index, (kind, source) in enumerate(cells):
        source = textwrap.dedent(source).strip("\n")
        make = new_markdown_cell if kind == "md" else new_code_cell
        notebook.cells.append(make(source, id=f"cell-{index:02d}"))
    return notebook


def execute(path: str, budget: str = "full", timeout: int = 1800) -> float:
    """Run `path` top to bottom in a temporary working directory; save outputs in place."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    os.environ["KERASDREAM_NOTEBOOK_BUDGET"] = budget
    bin_dir = os.path.dirname(sys.executable)   # so `!kerasdream` finds this environment's script
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    workdir = tempfile.mkdtemp(prefix="kerasdream-notebook-")
    began = time.perf_counter()
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": workdir}}).execute()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.perf_counter() - began
    tidy(notebook, workdir)
    nbformat.write(notebook, path)
    return seconds


# TensorFlow writes these to stderr at import, before its logging is set up, so
# TF_CPP_MIN_LOG_LEVEL cannot hide them; they say nothing about the notebook.
TF_STARTUP_LINES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I0000 .*(oneDNN custom operations|cpu_feature_guard|cudart_stub).*"
    r"|E0000 .*cuda_platform.*failed call to cuInit.*"
    r"|To enable the following instructions: .*"
    r"|\[IPKernelApp\] WARNING .*)\r?$",
    re.MULTILINE,
)


def tidy(notebook: nbformat.NotebookNode, workdir: str) -> None:
    """Drop TensorFlow's start-up lines and the temporary folder's path from outputs."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text = TF_STARTUP_LINES.sub("", output["text"]).replace(workdir + os.sep, "")
                text = re.sub(r"(\r?\n){2,}", "\n", text).lstrip("\r\n")
                if not text.strip():
                    continue
                output["text"] = text
            outputs.append(output)
        cell["outputs"] = outputs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true",
                        help="run each notebook at full budget and save its outputs")
    parser.add_argument("--only", action="append", default=None,
                        help="only this notebook (file name; repeatable)")
    args = parser.parse_args(argv)
    for name, cells in NOTEBOOKS.items():
        if args.only and name not in args.only:
            continue
        path = os.path.join(HERE, name)
        nbformat.write(build(cells), path)
        if args.execute:
            seconds = execute(path)
            print(f"{name}: executed in {seconds:.0f} s, {os.path.getsize(path) / 1e6:.2f} MB")
        else:
            print(f"wrote {name}")


if __name__ == "__main__":
    main()
