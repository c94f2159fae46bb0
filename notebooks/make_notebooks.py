"""Write (and optionally execute) the kerasdream tutorial notebooks.

    python notebooks/make_notebooks.py            # write the five .ipynb files, no outputs
    python notebooks/make_notebooks.py --execute  # write them, then run each at full budget
                                                  # and save its outputs in place

The notebooks are generated from this file so they are easy to change and to
regenerate: edit the cells here, not in the .ipynb files.

Every notebook reads one switch in its first code cell, the environment
variable `KERASDREAM_NOTEBOOK_BUDGET`: "full" (the default) for the pictures
worth looking at, "small" for a smoke run in a few seconds (what
tests/test_notebooks.py uses). Execution happens in a temporary working
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
import os

# The one switch: KERASDREAM_NOTEBOOK_BUDGET="full" (default) or "small" (a quick smoke run).
BUDGET = os.environ.get("KERASDREAM_NOTEBOOK_BUDGET", "full")
if BUDGET not in ("small", "full"):
    raise ValueError(f"KERASDREAM_NOTEBOOK_BUDGET must be 'small' or 'full'. Received: {BUDGET!r}")
STEPS, SIZE = (200, 128) if BUDGET == "full" else (5, 48)
OUT = "kerasdream-output/@SLUG@"  # everything this notebook writes goes here
@EXTRA@
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdream as kd

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
that pattern: starting from a grey image, change the pixels step by step so
that one chosen filter fires as hard as it can. The image we end up with is
the filter's **dream**.

This notebook builds a dream out of ordinary Keras parts, following the
recipe of the Mindboard post "Visualizing How Convolution Neural Networks
'See'":

> create a neural network that is composed of an initial dense layer that is
> applied to a single unit input. The initial dense layer will contain a set
> of weights, each corresponding to a pixel in our "dream" image. The dense
> layer outputs are reshaped into the shape of an image and fed into our
> trained CNN [...] We freeze the trained CNN layers so that only the weights
> in the initial dense layer can be altered. [...] we can apply this loss
> through a custom regularization function applied to the chosen layer.

In one picture (this is exactly what `kd.build_dream_model` assembles):

```
one-hot row i of eye(N)              the input: N rows, one per dream
  -> Dense(H*W*C, use_bias=False)    kernel row i IS dream i (the only trainable weights)
  -> Reshape(H, W, C)
  -> parameterization                raw values -> pixels in [0, 255]
  -> jitter                          small random shifts, training only
  -> the network's preprocessing     e.g. [0, 255] -> [-1, 1] for MobileNet
  -> frozen pretrained CNN           cut at the chosen layer, training=False
  -> Identity(activity_regularizer)  loss = -(mean activation of filter k)
```

`model.fit` with SGD then trains the Dense kernel, that is, paints the image.
The network here is MobileNet (width 0.25) with ImageNet weights, which ship
inside kerasdream, so nothing is downloaded.
'''),
    ("code", setup_cell("01")),
    ("md", r'''
## The network and the layer

`kd.load_base()` gives the frozen network (`base=None` everywhere means this
MobileNet). `kd.list_layers` lists its layers with their channel counts; the
command line does the same with `kerasdream layers`. We dream the outputs of
the ReLU layers: after each one, a channel is one filter's response map.
'''),
    ("code", r'''
base = kd.load_base()
relus = [info for info in kd.list_layers(base) if info.path.endswith("_relu")]
print(f"{base.name}: {len(base.layers)} layers, {len(relus)} of them ReLUs:")
print("  " + ", ".join(f"{info.path} ({info.channels})" for info in relus))

LAYER, FILTER = "conv_pw_5_relu", 7   # a middle layer with 64 filters; we dream filter 7
'''),
    ("md", r'''
## Step 1: the one-hot input and the Dense layer

The model's input is the identity matrix `eye(N)`, one row per dream. A Dense
layer without bias computes `rows @ kernel`, and a one-hot row just *selects*
a row of the kernel: row i of the output is kernel row i. So the kernel,
`N` rows of `H*W*C` numbers, holds `N` images, and training the kernel
trains the images. The same batch goes into `fit` at every step, never
shuffled, so row i always means dream i.
'''),
    ("code", r'''
rows = kd.dream.one_hot(4)                    # what fit sees for N = 4 dreams
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
## Step 2: the whole dream model

`kd.build_dream_model(objective)` assembles the picture above. The objective
`kd.Channel(LAYER, FILTER)` means "the mean activation of filter `FILTER` of
`LAYER` over all positions". `row_keys=[FILTER]` seeds the starting noise by
the filter number, as a batch of many filters does (we use that below).
'''),
    ("code", r'''
model = kd.build_dream_model(kd.Channel(LAYER, FILTER), size=SIZE, row_keys=[FILTER])
model.summary()
generator = kd.generator_of(model)   # the trainable part: Dense -> Reshape -> pixels
generator.summary()
print("Dense kernel:", tuple(generator.kernel.shape), f"= 1 dream of {SIZE}*{SIZE}*3 values")
'''),
    ("md", r'''
## Step 3: reshape and parameterization

The kernel row is reshaped to `(H, W, 3)` and squashed into pixel values by
`255 * sigmoid(raw)` (the "pixels" parameterization), so whatever SGD does,
every pixel stays in [0, 255]. The kernel starts as tiny noise, so the first
image is an almost uniform grey; stretched 100 times you can see the noise.
'''),
    ("code", r'''
raw = keras.ops.convert_to_numpy(generator.kernel)[0].reshape(SIZE, SIZE, 3)
start = kd.render(model)[0]               # uint8 (H, W, 3): what the network sees
print(f"raw kernel values: mean {raw.mean():+.4f}, std {raw.std():.4f}")
print(f"start image: pixel values {start.min()}..{start.max()}")

stretched = np.clip(127.5 + 100 * (start.astype(float) - 127.5), 0, 255)
show([start, stretched], ["start image", "same, contrast x100"], columns=2, size=2.2)
'''),
    ("md", r'''
## Step 4: the frozen network

The network is cut at `LAYER` and called with `training=False` (batch
normalization keeps its ImageNet statistics). None of its weights train:
the only trainable variable of the whole model is the Dense kernel.
'''),
    ("code", r'''
print("trainable:", [w.path for w in model.trainable_weights])
frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
print(f"frozen: {len(model.non_trainable_weights)} variables, {frozen:,} numbers of MobileNet")
'''),
    ("md", r'''
## Step 5: the objective as an activity regularizer

The last layer is an `Identity` on the chosen layer's output with an
*activity regularizer*: a loss computed from the activations that pass
through it. Here the loss is minus the filter's mean activation, so
minimizing it (what `fit` does) maximizes the filter. The model has no
targets and no other loss.
'''),
    ("code", r'''
probe = model.get_layer("objective_0")
print("activity regularizer of", probe.name, "->", probe.activity_regularizer.objective)
model(kd.dream.one_hot(1))               # one forward pass computes the loss
print(f"loss on the start image: {float(model.losses[0]):.3f}  (= -mean activation of filter {FILTER})")
'''),
    ("md", r'''
## Step 6: train

`kd.train(model, steps)` compiles the model with SGD (momentum 0.9, each
dream's gradient normalized on its own so one learning rate suits every
layer) and calls `model.fit` on the repeated one-hot batch. A small callback
keeps a copy of the image now and then so we can watch the dream appear.
Keras calls callbacks after each call of the compiled training step, and
kerasdream runs up to 25 steps per call for speed; for snapshots at exact
steps we ask for one step per call (`steps_per_execution=1`).
Under each picture: the filter's mean activation on that image, measured on
the saved 8-bit image by the plain network.
'''),
    ("code", r'''
from kerasdream.gallery import channel_activations   # mean activation of every channel


class Snapshots(keras.callbacks.Callback):
    """Keeps the dream image after the given training steps."""

    def __init__(self, at):
        super().__init__()
        self.at, self.images = set(at), {0: kd.render(model)[0]}

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 in self.at:
            self.images[batch + 1] = kd.render(self.model)[0]


snapshots = Snapshots([1, STEPS // 20, STEPS // 8, STEPS // 4, STEPS // 2, STEPS])
kd.train(model, STEPS, callbacks=[snapshots], steps_per_execution=1)

steps = sorted(snapshots.images)
images = np.stack([snapshots.images[s] for s in steps])
activation = channel_activations(base, LAYER, images, "tf")[:, FILTER]
show(images, [f"step {s}: {a:.2f}" for s, a in zip(steps, activation)], columns=len(steps))
'''),
    ("md", r'''
## The dream

`kd.render(model)` returns the dreams as `uint8` arrays `(N, H, W, 3)`. How
hard does the dream drive filter 7 compared with real photos? MobileNet's
activations are ReLU6: they stop at 6, so 6 is as hard as a filter can fire.
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


dream = kd.render(model)[0]
candidates = np.stack([start, photo("chelsea"), photo("coffee"), photo("astronaut"), dream])
acts = channel_activations(base, LAYER, candidates, "tf")
names = ["grey start", "cat", "coffee", "astronaut", f"dream of {FILTER}"]
show(candidates, [f"{n}: {a:.2f}" for n, a in zip(names, acts[:, FILTER])], columns=5, size=2.2)
'''),
    ("md", r'''
## Many filters in one `fit`

Nothing above was specific to one dream. With `N` one-hot rows the kernel
holds `N` images and one forward/backward pass trains all of them: a batch
of 16 images costs far less than 16 separate runs. `Channel(LAYER, range(16))`
gives each row its own filter. The dreams do not influence each other (the
loss is a sum of per-dream terms, gradients are normalized per row, the
jitter is the same for the whole batch), so row 7 of the batch is the very
dream we trained alone above.
'''),
    ("code", r'''
# For the timing: the same single dream again, trained the default way.
single_model = kd.build_dream_model(kd.Channel(LAYER, FILTER), size=SIZE)
began = time.perf_counter()
kd.train(single_model, STEPS)
single_seconds = time.perf_counter() - began

FILTERS = list(range(16))
batch_model = kd.build_dream_model(kd.Channel(LAYER, FILTERS), size=SIZE)
print("input:", batch_model.input_shape, " kernel:", tuple(kd.generator_of(batch_model).kernel.shape))
began = time.perf_counter()
kd.train(batch_model, STEPS)
batch_seconds = time.perf_counter() - began

dreams = kd.render(batch_model)
acts = channel_activations(base, LAYER, dreams, "tf")
show(dreams, [f"filter {k}: {acts[row, k]:.2f}" for row, k in enumerate(FILTERS)],
     title=f"{LAYER}, filters 0-15 (mean activation under each)")
print(f"1 dream: {single_seconds:.1f} s; 16 dreams in one fit: {batch_seconds:.1f} s "
      f"({batch_seconds / 16:.2f} s a dream)")
print(f"row {FILTER} of the batch equals the dream trained alone: "
      f"{np.array_equal(dreams[FILTER], dream)} (largest pixel difference "
      f"{np.abs(dreams[FILTER].astype(int) - dream.astype(int)).max()})")
'''),
    ("md", r'''
## A gallery: shallow, middle, deep

`kerasdream gallery` does all of this for several layers, 16 filters each,
and writes a PNG per dream, a grid per layer, per-filter dream models and
`metrics.json` (the same runs from Python with
`kerasdream.gallery.run_gallery`). Without `--layer` it picks a shallow, a
middle and a deep layer by itself; here we name three pointwise layers of
MobileNet, because its very first layers, whose units see only a few pixels,
mostly dream flat colours. `--parameterization fourier` builds the images
from waves instead of single pixels (notebook 2 compares the two): cleaner
pictures at the same cost in steps.

The summary line per layer counts the dreams whose own filter is the most
active channel of the layer ("rank 1"). Since ReLU6 stops at 6, several
channels often tie at the cap on a strong dream, so rank 1 is a strict test.
'''),
    ("code", r'''
GALLERY_FILTERS = "0-15" if BUDGET == "full" else "0-3"
!kerasdream gallery --layer conv_pw_4_relu --layer conv_pw_8_relu --layer conv_pw_12_relu --filters {GALLERY_FILTERS} --parameterization fourier --size {SIZE} --steps {STEPS} --out {OUT}/gallery --models-dir {OUT}/models --quiet
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
Read the gallery from top to bottom. In the shallow layer
(`conv_pw_4_relu`, 9 convolutions deep, each unit seeing a patch of 27x27
pixels) filters want **edges and stripes**: one orientation, one or two
colours, repeated across the image. The middle layer (`conv_pw_8_relu`,
patches of 123 pixels) combines them into **textures**: scales, honeycombs,
waves, folds. The deep layer (`conv_pw_12_relu`, whose units see the whole
image) dreams **parts of objects and scenes**: eyes, shiny round things
such as balls and bottles, grass under trees. That progression, from edges
to textures to parts, is what the depth of a CNN buys; the dreams show it
without a single training image.
'''),
]

# ---------------------------------------------------------------- 02 objectives

NB02 = [
    ("md", r'''
# 2. Objectives, parameterizations, transforms and priors

Notebook 1 maximized one thing, the mean activation of a filter. That choice
is the **objective**, and it is only one of several. kerasdream's objectives
compose like numbers: `Channel(...) + 5 * Diversity(...)`,
`Channel(...) - TotalVariation()`. Each gives one value per dream, to
maximize. This notebook shows what each one does to the picture, then the
other knobs: how pixels are parameterized, random transforms during
training, and natural-image priors.

| objective | maximizes |
|---|---|
| `Neuron(layer, k)` | filter k at one position (the centre) |
| `Channel(layer, k)` | filter k averaged over all positions |
| `DeepDream(layer)` | the whole layer's mean squared activation |
| `ClassLogit(k)` | class k's score before the softmax (needs a classifier) |
| `Diversity(layer)` | how different the dreams of one batch are |
| `AlphaNorm()`, `TotalVariation()` | image priors: subtract them as penalties |
'''),
    ("code", setup_cell("02")),
    ("code", r'''
import skimage.data
import skimage.transform

from kerasdream.gallery import channel_activations

base = kd.load_base()
LAYER, FILTERS = "conv_pw_8_relu", [0, 2, 7, 13]


def photo(name, size=SIZE):
    """A photo from scikit-image, square-cropped and resized, float pixels 0..255."""
    image = getattr(skimage.data, name)()
    side = min(image.shape[:2])
    image = image[:side, :side]
    return skimage.transform.resize(image, (size, size), anti_aliasing=True) * 255


def activations(images, layer=LAYER):
    """Mean activation of every channel of `layer` on each image, shape (N, C)."""
    return channel_activations(base, layer, images, "tf")
'''),
    ("md", r'''
## Neuron versus Channel

`kd.visualize(objective, ...)` is build + train + render in one call.
`Neuron` asks for filter k at the centre cell only, so only the pixels that
cell can see (its receptive field) matter: they change, the rest of the
image stays grey. `Channel` asks for filter k everywhere, so the pattern
tiles the whole image.
'''),
    ("code", r'''
neurons = kd.visualize(kd.Neuron(LAYER, FILTERS), size=SIZE, steps=STEPS)
channels = kd.visualize(kd.Channel(LAYER, FILTERS), size=SIZE, steps=STEPS)
show(np.concatenate([neurons, channels]),
     [f"Neuron {k}" for k in FILTERS] + [f"Channel {k}" for k in FILTERS], columns=4)
'''),
    ("md", r'''
## DeepDream: amplify what a layer already sees

`DeepDream(layer)` maximizes the energy of the whole layer, all filters at
once. Started from a photo (the generator's `set_images`) and trained
briefly with a small learning rate, it exaggerates whatever the layer
detects in the photo: a middle layer paints its textures over the cat, a deep
layer turns round blobs into eyes and faces.
'''),
    ("code", r'''
cat = photo("chelsea")
DREAM_STEPS = 60 if BUDGET == "full" else 3
deep_dreams = []
for layer in ["conv_pw_5_relu", "conv_pw_11_relu"]:
    model = kd.build_dream_model(kd.DeepDream(layer), size=SIZE, num_dreams=1)
    kd.generator_of(model).set_images(cat[None])      # start from the photo, not grey
    kd.train(model, DREAM_STEPS, learning_rate=0.01)
    deep_dreams.append(kd.render(model)[0])
show([cat, *deep_dreams], ["photo", "DeepDream conv_pw_5_relu", "DeepDream conv_pw_11_relu"],
     columns=3, size=2.6)
'''),
    ("md", r'''
## Pixels versus Fourier

How a kernel row becomes an image is the **parameterization**. `"pixels"`
(the seed's method, used so far) gives every pixel its own number, squashed
by a sigmoid.
`"fourier"` stores a 2-D spectrum instead, scaled by 1/frequency, with
decorrelated colours (as in Lucid), and turns it into pixels with an inverse
FFT. A gradient step then moves whole waves rather than single pixels and
favours low frequencies, so dreams grow larger, smoother shapes. Each
parameterization comes with its own default learning rate (`kd.train` picks
it when none is given).
'''),
    ("code", r'''
timings, rows = {}, {}
for parameterization in ["pixels", "fourier"]:
    began = time.perf_counter()
    rows[parameterization] = kd.visualize(kd.Channel(LAYER, FILTERS), size=SIZE, steps=STEPS,
                                          parameterization=parameterization)
    timings[parameterization] = time.perf_counter() - began
acts = activations(np.concatenate([rows["pixels"], rows["fourier"]]))
show(np.concatenate([rows["pixels"], rows["fourier"]]),
     [f"{p} {k}: {acts[i * 4 + j, k]:.2f}" for i, p in enumerate(rows) for j, k in enumerate(FILTERS)],
     columns=4)
print(", ".join(f"{p}: {s:.1f} s" for p, s in timings.items()))
'''),
    ("md", r'''
## ClassLogit: what makes a classifier say "cat"?

A class score needs a network with a classification head, and the MobileNet
shipped with kerasdream has none (its ImageNet top would be a 1000-class
download). So we make a tiny classifier ourselves: the frozen MobileNet, a
global average pool and a 4-way softmax layer, trained for a few seconds on
random crops of four scikit-image photos (cat, coffee, astronaut, rocket).
Any `keras.Model` works as a base; this one contains its own `Rescaling`
layer, because an in-memory model's pixels (0..255) are fed as they are.

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
inputs = keras.Input((None, None, 3))
x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(inputs)  # MobileNet's [-1, 1]
x = base(x)                                                                   # frozen
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
    images = kd.visualize(kd.ClassLogit(list(range(len(CLASSES)))), classifier, size=SIZE,
                          steps=STEPS, parameterization=parameterization)
    probabilities = classifier.predict(images.astype("float32"), verbose=0)
    class_dreams.append(images)
    captions += [f"{parameterization} '{name}': p={probabilities[k, k]:.2f}"
                 for k, name in enumerate(CLASSES)]
show(np.concatenate(class_dreams), captions, columns=4, size=2.2)
'''),
    ("md", r'''
Each dream is classified as its class with near certainty (p under each
picture). The pixel dreams say little to us; with Fourier images the
classes become recognizable: a cat's face with eyes and striped fur, round
rims in coffee colours, the suit's orange and white, blue sky. These are
pictures of *this* classifier's evidence, learned from one photo per class,
not of cats in general.

## Diversity: several different dreams of one filter

Four dreams of the same filter, started from slightly different noise,
usually end up nearly identical. `Diversity(layer)` scores a batch by how
*different* its dreams are: minus the mean cosine similarity between the
dreams' Gram matrices (which channels fire together, regardless of where).
In kerasdream it is a quantity to maximize, so it is **added**. Its weight
matters: at 0.1 it is invisible next to the channel term here; at 5 the
four dreams split into different ways of exciting the same filter.
Diversity is the one objective that couples the dreams of a batch.
'''),
    ("code", r'''
from kerasdream.bases import Preprocess, feature_model

K = 7
similarity_features = feature_model(base, [LAYER], (SIZE, SIZE, 3))


def similarity(images):
    """Mean cosine similarity of the dreams' Gram matrices (1 = identical styles)."""
    features = similarity_features(Preprocess("tf")(images.astype("float32")))[LAYER]
    return -float(np.mean(keras.ops.convert_to_numpy(kd.Diversity(LAYER)(features))))


results = {}
for name, objective in [("Channel", kd.Channel(LAYER, [K] * 4)),
                        ("Channel + 0.1 * Diversity", kd.Channel(LAYER, [K] * 4) + 0.1 * kd.Diversity(LAYER)),
                        ("Channel + 5 * Diversity", kd.Channel(LAYER, [K] * 4) + 5 * kd.Diversity(LAYER))]:
    results[name] = kd.visualize(objective, size=SIZE, steps=STEPS)
for name, dreams in results.items():
    acts = activations(dreams)[:, K]
    show(dreams, [f"filter {K}: {a:.2f}" for a in acts], columns=4, size=1.8,
         title=f"{name}: Gram similarity {similarity(dreams):.3f}")
'''),
    ("md", r'''
Under each dream, the mean activation of filter 7: the diverse dreams pay
for their variety with some activation, and the weight sets that trade.

## Transforms: jitter, scale, rotate

Without transforms, gradient ascent finds pixel-exact patterns: high-frequency
noise that only works in exactly that position. Shifting the image by a few
random pixels at every step (`transforms="default"`, the pre-images paper's
jitter of a quarter of the layer's stride) makes the dream work wherever it
sits, which removes much of that noise. Lucid also scales and rotates:
`[Jitter(8), Scale(0.1), Rotate(10)]` from `kerasdream.transforms`. The
transforms act only during training; the rendered dream is untransformed.
Expect the activation to be highest without transforms: that dream is tuned
to the exact position it is measured at, which is the problem.
'''),
    ("code", r'''
from kerasdream.transforms import Jitter, Rotate, Scale

variants = {
    "transforms=None": None,
    'transforms="default" (jitter of a quarter stride)': "default",
    "transforms=[Jitter(8), Scale(0.1), Rotate(10)]": [Jitter(8), Scale(0.1), Rotate(10)],
}
for name, transforms in variants.items():
    images = kd.visualize(kd.Channel(LAYER, FILTERS), size=SIZE, steps=STEPS,
                          transforms=transforms)
    acts = activations(images)
    show(images, [f"filter {k}: {acts[j, k]:.2f}" for j, k in enumerate(FILTERS)], columns=4,
         size=1.8, title=name)
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
from kerasdream.priors import AlphaNorm, TotalVariation

channel = kd.Channel(LAYER, FILTERS)
variants = {
    "Channel": channel,
    "Channel - TotalVariation()": channel - TotalVariation(),
    "Channel - AlphaNorm()": channel - AlphaNorm(),
    "Channel - AlphaNorm() - TotalVariation()": channel - AlphaNorm() - TotalVariation(),
}
for name, objective in variants.items():
    images = kd.visualize(objective, size=SIZE, steps=STEPS)
    acts = activations(images)
    tv = keras.ops.convert_to_numpy(TotalVariation()(images.astype("float32")))
    show(images, [f"filter {k}: {acts[j, k]:.2f}\nTV {tv[j]:.1f}, std {images[j].std():.0f}"
                  for j, k in enumerate(FILTERS)], columns=4, size=1.8, title=name)
'''),
    ("md", r'''
Total variation turns the dreams into smooth blobs of colour (the filter
still fires, a little less); the alpha-norm keeps the pattern but pulls the
colours towards grey. Weights decide the balance: `Channel - 10 *
TotalVariation()` would leave almost nothing but grey. Notebook 3 uses both
priors the way the paper does, to turn features back into a photo.
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

kerasdream writes each as an objective (for example
`100 * Inversion(layer, photo) - AlphaNorm() - TotalVariation()`) and trains
it like any dream: a Dense kernel, the paper's bounded parameterization
(every pixel's colour vector within a ball around grey), jitter, `model.fit`.
`kerasdream.preimages.preimage(kind, photo, layer, ...)` does all of it and
returns the image with its **relative feature error**
`||Phi(x) - Phi0|| / ||Phi0||`, the paper's measure of reconstruction quality
(0 = same features as the photo).
'''),
    ("code", setup_cell("03")),
    ("code", r'''
import skimage.data
import skimage.transform

from kerasdream.preimages import preimage, preimage_objective, relative_error

base = kd.load_base()
astronaut = skimage.transform.resize(skimage.data.astronaut(), (SIZE, SIZE), anti_aliasing=True)
photo = (astronaut * 255).astype("float32")
INVERT_STEPS = 300 if BUDGET == "full" else 5     # the paper's 300 iterations
objective = preimage_objective("invert", "conv_pw_5_relu", photo, weight=100)
print("the energy, as an objective to maximize:",
      " ".join(f"{weight:+g} * {type(term).__name__}" for weight, term in objective.terms))
show([photo], ["the photo"], columns=1, size=2.4)
'''),
    ("md", r'''
## Inverting features at increasing depth

We reconstruct the photo from the features of eight layers, from the first
convolution (`conv1_relu`, 8 channels at half resolution) to the last
(`conv_pw_13_relu`, 256 channels at 1/32 resolution). `weight` is the
paper's `C` (it tries 1 to 300); 100 with a learning rate of 0.005 suits
this network. Under each picture: the relative feature error.
'''),
    ("code", r'''
LAYERS = ["conv1_relu", "conv_pw_1_relu", "conv_pw_3_relu", "conv_pw_5_relu",
          "conv_pw_7_relu", "conv_pw_9_relu", "conv_pw_11_relu", "conv_pw_13_relu"]
if BUDGET == "small":
    LAYERS = LAYERS[::3]   # a smoke run needs only a few
inversions, errors = [], []
began = time.perf_counter()
for layer in LAYERS:
    image, error = preimage("invert", photo, layer, steps=INVERT_STEPS, learning_rate=0.005,
                            weight=100)
    inversions.append(image)
    errors.append(error)
print(f"{len(LAYERS)} inversions in {time.perf_counter() - began:.0f} s")
show(inversions, [f"{layer}\nerror {e:.2f}" for layer, e in zip(LAYERS, errors)], columns=8)
'''),
    ("md", r'''
## The paper's last 50 steps

The paper ends every optimization with 50 more iterations at a tenth of the
learning rate **without jitter**: jitter keeps the image robust while it
forms, but as long as it is on, the image never settles on the exact
features. `preimage` does one phase only, so we add the second one from the
library's parts: build the same objective, train, then wrap the *same*
generator (`generator=`) in a model without transforms and train a little
longer.
'''),
    ("code", r'''
def invert_like_the_paper(photo, layer, steps=INVERT_STEPS, polish=max(INVERT_STEPS // 6, 1),
                          learning_rate=0.005, weight=100.0):
    """`steps` with jitter, then `polish` steps at a tenth of the rate without it."""
    objective = preimage_objective("invert", layer, photo, weight)
    model = kd.build_dream_model(objective, size=photo.shape[:2], num_dreams=1,
                                 parameterization="bounded")
    kd.train(model, steps, learning_rate=learning_rate)
    generator = kd.generator_of(model)
    still = kd.build_dream_model(objective, generator=generator, transforms=None)
    kd.train(still, polish, learning_rate=learning_rate / 10)
    image = generator.render()
    return image[0], float(relative_error(base, layer, image, photo, "tf")[0])


polished, polished_errors = [], []
for layer in LAYERS:
    image, error = invert_like_the_paper(photo, layer)
    polished.append(image)
    polished_errors.append(error)
show(polished, [f"{layer}\nerror {e:.2f}" for layer, e in zip(LAYERS, polished_errors)], columns=8)

fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(errors, "o-", label="preimage() (jitter to the end)")
ax.plot(polished_errors, "o-", label="+ 50 steps without jitter (paper)")
ax.set_xticks(range(len(LAYERS)), [layer.replace("_relu", "") for layer in LAYERS], rotation=30)
ax.set_ylabel("relative feature error"), ax.set_ylim(0, None), ax.legend()
plt.show()
'''),
    ("md", r'''
What the pictures say, as in the paper: the first layer (`conv1`, 8
channels) keeps the geometry but not the colours: after its ReLU, 8 numbers
a position cannot tell all colours apart, so the reconstruction picks
plausible ones. From `conv_pw_1` on, colours, edges and layout come back
almost photographically. Deeper, the layout and the parts (face, helmet,
flag, badges) remain while fine texture turns into the network's own
version of it, and yet the relative error stays low: these layers still
hold nearly all of the photo. Only the last layer, 4x4 cells of 256
channels, keeps mere blotches: many very different images share those
features. The final steps without jitter lower the error everywhere.

## The weight C

`C` trades the features against the priors. Small `C`: smooth, grey,
natural but wrong (the priors win). Large `C`: closer features, noisier
image.
'''),
    ("code", r'''
LAYER = "conv_pw_5_relu"
images, captions = [], []
for weight in [1, 20, 100, 300] if BUDGET == "full" else [1, 300]:
    image, error = invert_like_the_paper(photo, LAYER, weight=weight)
    images.append(image)
    captions.append(f"C = {weight}\nerror {error:.2f}")
show(images, captions, columns=4, size=2.2, title=f"inversion of {LAYER}")
'''),
    ("md", r'''
## Caricature

A caricature starts from the photo and maximizes `<Phi(x), Phi0>` with
`Phi0 = max(Phi(photo), 0) / ||max(Phi(photo), 0)||^2`: every feature the
layer finds in the photo is pushed up, in proportion to how strongly it is
there. The result shows what the layer *looks at* in this photo: at
`conv_pw_5` fine stripes cover the suit, at `conv_pw_8` swirls and scales
appear, at `conv_pw_11` the face, helmet and badges sprout round, eye-like
rings. A small learning rate keeps the photo recognizable while its
features grow. (The error under each picture now measures how far the
caricature has moved from the photo's features.)
'''),
    ("code", r'''
caricatures, captions = [photo], ["photo"]
for layer in ["conv_pw_5_relu", "conv_pw_8_relu", "conv_pw_11_relu"]:
    image, error = preimage("caricature", photo, layer, steps=INVERT_STEPS, learning_rate=0.002,
                            weight=100)
    caricatures.append(image)
    captions.append(f"{layer}\nerror {error:.2f}")
show(caricatures, captions, columns=4, size=2.4)
'''),
    ("md", r'''
The command line does the same with files:
`kerasdream invert --layer conv_pw_5_relu --image photo.png --out inverted`
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
   grayscale, upsampled to 32x32),
2. save it as a `.keras` file,
3. dream its filters with the command line (`kerasdream filters --model
   digits.keras ...`),
4. dream its class scores with the Python API (`ClassLogit`).

One rule: **a model file gets its pixels as they are**, 0..255 (its
preprocessing defaults to `"none"`, because kerasdream cannot know how you
scaled your training data). So put the scaling into the model, as a
`Rescaling` layer, and train it on 0..255 images. Then the model file is
self-contained, for kerasdream and for anyone else who uses it.
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

Three convolution blocks and a Dense classifier. The first layer rescales
0..255 to 0..1; the convolutions have names we can ask for later.
'''),
    ("code", r'''
keras.utils.set_random_seed(0)
inputs = keras.Input((32, 32, 1), name="digit")
x = keras.layers.Rescaling(1 / 255, name="rescale")(inputs)     # the model's own preprocessing
x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(x)
x = keras.layers.MaxPooling2D(name="pool1")(x)
x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
x = keras.layers.MaxPooling2D(name="pool2")(x)
x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3")(x)
x = keras.layers.MaxPooling2D(name="pool3")(x)
x = keras.layers.Flatten(name="flatten")(x)
x = keras.layers.Dropout(0.3, name="dropout")(x)
outputs = keras.layers.Dense(10, activation="softmax", name="digit_class")(x)
classifier = keras.Model(inputs, outputs, name="digits_cnn")
classifier.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
classifier.fit(images[train], labels[train], epochs=EPOCHS, batch_size=32, verbose=0)
print(f"test accuracy: {classifier.evaluate(images[test], labels[test], verbose=0)[1]:.3f}")

os.makedirs(OUT, exist_ok=True)
MODEL_FILE = f"{OUT}/digits.keras"
classifier.save(MODEL_FILE)
print("saved", MODEL_FILE, f"({os.path.getsize(MODEL_FILE) / 1e3:.0f} kB)")
'''),
    ("md", r'''
## Which layers, which filters

`kerasdream layers --model digits.keras` lists the layers a dream can
target: those with a `(batch, height, width, channels)` output. From Python,
`kd.load_base(path)` loads the file as kerasdream sees it and
`kd.list_layers` gives the same table.
'''),
    ("code", r'''
for info in kd.list_layers(kd.load_base(MODEL_FILE)):
    mark = "*" if info.dreamable else " "
    print(f"{mark} {info.path:<12} {info.class_name:<20} {str(info.output_shape):<20} {info.channels}")
'''),
    ("md", r'''
`kerasdream filters` dreams the chosen filters of the chosen layers, 16 in
one `fit`, and writes a PNG per filter, a grid per layer, `metrics.json`
(each filter's activation before and after) and a small dream model per
filter. `--size 32` matches the model's input; the dreams are grayscale
because the model's input has one channel.

On an image this small, the default objective (a filter's mean over the
whole image) is mostly won by a flat white or black image. `--objective
neuron` asks instead for the unit at the centre: only the pixels it can see
(its receptive field) change, and they show the pattern it looks for. With
`--parameterization pixels` every pixel is free, which suits 32x32 digits.
'''),
    ("code", r'''
!kerasdream filters --model {MODEL_FILE} --layer conv1 --layer conv2 --layer conv3 --filters 0-15 --objective neuron --parameterization pixels --size 32 --steps {STEPS} --out {OUT}/filters --models-dir {OUT}/models --quiet
'''),
    ("code", r'''
import json

from PIL import Image

# The centre unit sees only its receptive field: zoom in on it (3, 8 and 18 pixels wide).
crops = {"conv1": slice(12, 20), "conv2": slice(10, 22), "conv3": slice(6, 28)}
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
The receptive field grows with depth: a `conv1` unit sees 3x3 pixels and
wants a light or dark dot or a short edge; a `conv2` unit sees 8x8 pixels
(after one pooling) and wants a stroke at a slant or a corner; a `conv3`
unit sees 18x18 pixels, more than half a digit, and wants curves and bars
in a particular arrangement: the pieces digits are made of. A model file is
a base like any other: everything in notebooks 1-3 works with
`base="path/to/model.keras"`.

## The API: what does the model think a "3" looks like?

`ClassLogit(k)` maximizes the score of class k before the softmax; `layer`
defaults to the model's last layer. Ten dreams, one per digit, train in one
`fit`. Raw pixel dreams come out as hard black-and-white strokes (nothing
stops the sigmoid from saturating); subtracting the priors of notebook 2
gives smooth, readable digits. Under each dream: what the classifier itself
says it is, and how sure it is.
'''),
    ("code", r'''
from kerasdream.priors import AlphaNorm, TotalVariation

classes = kd.ClassLogit(list(range(10)))
rows = {
    "ClassLogit": classes,
    "- 0.3 TV - 0.3 AlphaNorm": classes - 0.3 * TotalVariation() - 0.3 * AlphaNorm(),
}
dreams, captions = [], []
for name, objective in rows.items():
    model = kd.build_dream_model(objective, MODEL_FILE, size=32)
    kd.train(model, STEPS)
    images = kd.render(model)
    predicted = classifier.predict(images.astype("float32"), verbose=0)
    dreams.append(images)
    captions += [f"class {k}\nsays {p.argmax()} ({p.max():.2f})" for k, p in enumerate(predicted)]
print("preprocessing used for the model file:", kd.generator_of(model).spec["preprocess"])
show(np.concatenate(dreams), captions, columns=10, size=1.4)
'''),
    ("md", r'''
Top row: plain class scores; bottom row: with the priors. The classifier
calls every dream by its own digit with near certainty. These are the
digits as the network sees them: the 0's ring, the 8's two loops and the
6's lower loop are there; other classes are a few strokes in the places
that matter for *this* network, which only ever saw centred 8x8 digits.

If a dream of your own model comes out as grey noise or saturated mush,
check the input range first: does the model expect 0..255 (then include
`Rescaling`), or pass `preprocess="unit"` / `"tf"` to
`kd.build_dream_model` (`--preprocess` on the command line) to say how the
model was trained.
'''),
]

# ------------------------------------------------------- 05 reload and resume

NB05 = [
    ("md", r'''
# 5. Save, reload and resume

Long runs (a whole layer, every layer) are worth keeping. `kerasdream
filters` and `kerasdream gallery` save one small model per filter next to
its PNG. Such a file holds only the dream's **generator** (the Dense kernel
with its reshape and parameterization), not the base network's weights, and
it records by reference which network, objective and transforms it was
trained with. So you can

- load it (`kerasdream.io.load_dream`, or plain
  `keras.models.load_model(path, safe_mode=True)`),
- render it,
- rebuild the full trainable dream model around it (`kd.rebuild`) and
  train it further,
- or let a whole run pick up where it stopped (`--resume`).
'''),
    ("code", setup_cell("05")),
    ("md", r'''
## A short run to start from

Four filters of a middle layer, trained for only half the usual steps, with
the Fourier parameterization (the command line's default).
`kerasdream.gallery.run_gallery` is what the command line runs; this cell
is the same as

```
kerasdream filters --layer conv_pw_5_relu --filters 0-3 --size SIZE --steps HALF \
    --parameterization fourier --out dreams --models-dir models
```
'''),
    ("code", r'''
from kerasdream.bases import BaseSpec
from kerasdream.gallery import DreamSettings, run_gallery

HALF = max(STEPS // 2, 1)
LAYER = "conv_pw_5_relu"


def dream_filters(steps, resume=False):
    # Filters 0-3 of LAYER: PNGs in OUT/dreams, one dream model per filter in OUT/models.
    settings = DreamSettings(size=SIZE, steps=steps, parameterization="fourier")
    return run_gallery(BaseSpec(), [LAYER], "0-3", settings, out_dir=f"{OUT}/dreams",
                       models_dir=f"{OUT}/models", resume=resume, quiet=True)


dream_filters(HALF);
'''),
    ("code", r'''
import glob

paths = sorted(glob.glob(f"{OUT}/models/*/*/filter_*.keras"))
for path in paths:
    print(f"{path}  {os.path.getsize(path) / 1e3:.0f} kB")
PATH = paths[0]
'''),
    ("md", r'''
The files sit under `models/<network>/<layer>/filter_<k>.keras`. Each is
about the size of one dream's kernel; MobileNet's weights are not in it.

## Load and render

`kerasdream.io.load_dream` loads the generator (with `safe_mode=True`: no
Python code is deserialized, only registered Keras classes).
`kd.render` works on a generator as on a full dream model. A Fourier dream
is stored as a spectrum, a real and an imaginary part per frequency and
channel: twice `H*W*3` numbers.
'''),
    ("code", r'''
from kerasdream.io import load_dream, save_dream

generator = load_dream(PATH)
print(type(generator).__name__, "with", generator.num_dreams, "dream of shape", generator.image_shape)
parameterization = generator.parameterization
print(f"parameterization: {type(parameterization).__name__}, kernel of {parameterization.raw_size:,} "
      f"numbers {tuple(parameterization.raw_shape)}")
print("base network:", generator.spec["base"])
print("objective:   ", keras.saving.deserialize_keras_object(generator.spec["objective"]))
print("transforms:  ", [t["class_name"] for t in generator.spec["transforms"]])
loaded = kd.render(generator)[0]
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
print(type(plain).__name__, "- same pixels:", np.array_equal(kd.render(plain)[0], loaded))
'''),
    ("md", r'''
## Rebuild and train further

`kd.rebuild(generator)` reconstructs the whole dream model (network,
preprocessing, transforms, objective) around the loaded generator, using the
references it saved. Training it continues where the short run stopped.
Under each picture: the filter's mean activation.
'''),
    ("code", r'''
from kerasdream.gallery import channel_activations

model = kd.rebuild(generator)
model.summary()
spec = generator.spec
k = spec["objective"]["config"]["index"]

kd.train(model, STEPS)
longer = kd.render(model)[0]
acts = channel_activations(kd.load_base(), LAYER, np.stack([loaded, longer]),
                           spec["preprocess"])[:, k]
show([loaded, longer], [f"after {HALF} steps: {acts[0]:.2f}", f"+ {STEPS} more: {acts[1]:.2f}"],
     columns=2, size=2.4)

save_dream(model, f"{OUT}/filter_{k}_longer.keras")   # saves the generator only
print("saved", f"{OUT}/filter_{k}_longer.keras")
'''),
    ("md", r'''
## Resuming a whole run

Running the same `kerasdream filters` command again skips every dream that
is already done. With `--resume` and a larger `--steps`, it instead loads
each saved dream and trains only the missing steps, here from `HALF` to
`STEPS`. An interrupted run (Ctrl-C) is finished the same way: run the
command again. From Python that is `run_gallery(..., resume=True)`:

```
kerasdream filters --layer conv_pw_5_relu --filters 0-3 --size SIZE --steps STEPS \
    --parameterization fourier --out dreams --models-dir models --resume
```

`metrics.json` records each dream's steps, and its activation when this run
began: that of the saved half-trained dream, not of a grey start.
'''),
    ("code", r'''
import json

from PIL import Image

dream_filters(STEPS, resume=True)
with open(f"{OUT}/dreams/{LAYER}/metrics.json") as file:
    metrics = json.load(file)["filters"]
for key, entry in sorted(metrics.items()):
    print(f"filter {key}: {entry['steps']} steps; activation {entry['start_activation']:.2f} "
          f"when resumed, {entry['final_activation']:.2f} now")
resumed = [np.asarray(Image.open(f"{OUT}/dreams/{LAYER}/filter_{k}.png")) for k in range(4)]
show(resumed, [f"filter {k}, {STEPS} steps" for k in range(4)], columns=4, size=2.0)
'''),
]

NOTEBOOKS = {
    "01_dream_a_filter.ipynb": NB01,
    "02_objectives.ipynb": NB02,
    "03_pre_images.ipynb": NB03,
    "04_your_own_model.ipynb": NB04,
    "05_reload_and_resume.ipynb": NB05,
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
    r"|I0000 .*(oneDNN custom operations|cpu_feature_guard).*"
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
