"""The real shipped network: MobileNet alpha=0.25 with its ImageNet weights."""

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.network.bases import load_base


@pytest.mark.slow
def test_eight_filters_of_a_middle_layer_each_excite_their_own_filter_most():
    # 8 filters of conv_pw_6_relu (block 6 of 13), one batched fit of 200
    # steps at 128 px. The dream of filter k must make k the most active of
    # the layer's 128 channels (a tie at ReLU6's cap of 6 counts) for >= 7 of 8.
    filters = list(range(8))
    model = kd.DreamModel(kd.Channel("conv_pw_6_relu", filters), size=128,
                                 transforms=None, seed=0)
    kd.train(model, 200)
    images = kd.render(model)

    # Measured another way than the code's scoring: MobileNet cut at the layer
    # by plain Keras, its "tf" preprocessing by hand, channel means in numpy.
    base = load_base(None)
    layer = keras.Model(base.inputs, base.get_layer("conv_pw_6_relu").output)
    pixels = images.astype("float32") / 127.5 - 1.0
    activations = np.mean(keras.ops.convert_to_numpy(layer(pixels)), axis=(1, 2))
    assert activations.shape == (8, 128)
    # Rank 1: no other channel above the dream's own by more than 1e-3.
    ranks = [1 + int(np.sum(activations[row] > activations[row, k] + 1e-3))
             for row, k in enumerate(filters)]
    assert sum(rank == 1 for rank in ranks) >= 7, ranks
    # The dreams really are strong: their own filter's mean is near the cap.
    assert np.median(activations[np.arange(8), filters]) > 5.5


@pytest.mark.slow
def test_a_flat_start_of_a_shallow_filter_does_not_stay_flat():
    # The old complaint: at conv_pw_2_relu a dream of the layer's mean ends as
    # one flat colour. From a perfectly flat grey start, the gallery's own
    # objective and the default optimizer grow a pattern (pixel std > 2),
    # where row-normalized SGD on the capped output stays flat.
    from kerasdream.evaluation.scoring import pixel_std
    from kerasdream.runs.settings import DreamSettings
    from kerasdream.optimizers import RowNormalizedSGD

    base = load_base(None)
    filters = [0, 3]
    grey = np.full((1, 64, 64, 3), 127.5, "float32")

    def dream(objective, optimizer):
        model = kd.DreamModel(objective, size=64, seed=0)
        model.generator.set_images(grey)
        model.compile(optimizer)
        model.fit(40)
        return pixel_std(model.render())

    gallery = DreamSettings().objective_for("conv_pw_2_relu", filters, base)
    assert np.all(dream(gallery, None) > 2.0)
    assert np.all(dream(kd.Channel("conv_pw_2_relu", filters), RowNormalizedSGD(0.01)) < 2.0)
