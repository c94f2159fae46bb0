"""The real shipped network: MobileNet alpha=0.25 with its ImageNet weights."""

import numpy as np
import pytest

import kerasdream as kd
from kerasdream.network.bases import load_base
from kerasdream.evaluation.scoring import layer_means as channel_activations, rank_of


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

    activations = channel_activations(load_base(None), "conv_pw_6_relu", images, "tf")
    assert activations.shape == (8, 128)
    ranks = [rank_of(activations[row], k) for row, k in enumerate(filters)]
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
