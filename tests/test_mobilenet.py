"""The real shipped network: MobileNet alpha=0.25 with its ImageNet weights."""

import numpy as np

import kerasdream as kd
from kerasdream.bases import load_base
from kerasdream.gallery import channel_activations, rank_of


def test_eight_filters_of_a_middle_layer_each_excite_their_own_filter_most():
    # 8 filters of conv_pw_6_relu (block 6 of 13), one batched fit of 200
    # steps at 128 px. The dream of filter k must make k the most active of
    # the layer's 128 channels (a tie at ReLU6's cap of 6 counts) for >= 7 of 8.
    filters = list(range(8))
    model = kd.build_dream_model(kd.Channel("conv_pw_6_relu", filters), size=128,
                                 transforms=None, seed=0)
    kd.train(model, 200)
    images = kd.render(model)

    activations = channel_activations(load_base(None), "conv_pw_6_relu", images, "tf")
    assert activations.shape == (8, 128)
    ranks = [rank_of(activations[row], k) for row, k in enumerate(filters)]
    assert sum(rank == 1 for rank in ranks) >= 7, ranks
    # The dreams really are strong: their own filter's mean is near the cap.
    assert np.median(activations[np.arange(8), filters]) > 5.5
