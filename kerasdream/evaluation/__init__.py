"""Judging final 8-bit pictures: rank, robust rank, natural-photo ratio, flatness, noise.

`means`: channel means through the exact network (and the memo kept per
network); `views`: the robust views (`transforms.warp`); `natural`: the reference
photos (skimage's, or a folder of the user's own: `photo_folder.Reference`),
their crops (shared with MACO) and their means; `scoring`: one record per
dream. Every public name is exported here.
"""

from kerasdream.evaluation.means import (
    BATCH,
    BATCH_PIXELS,
    EAGER_PIXELS,
    channel_means,
    feature_key,
    features,
    key_means,
    layer_means,
    memo,
    scoring_keys,
)
from kerasdream.evaluation.natural import (
    NATURAL_CROPS,
    NATURAL_PHOTOS,
    constant_channels,
    crop_boxes,
    natural_crops,
    natural_key_means,
    natural_maxima,
    natural_means,
    natural_photos,
    photo_crops,
    reference_crops,
    reference_photos,
)
from kerasdream.evaluation.scoring import (
    FLAT_STD,
    clipped_fraction,
    column_selective,
    high_frequency,
    is_flat,
    natural_high_frequency,
    natural_ratio,
    pixel_std,
    rank_of,
    relative_error,
    score_dreams,
)
from kerasdream.evaluation.views import (
    robust_channel_means,
    robust_key_means,
    robust_views,
    view_matrix,
    view_parameters,
)
from kerasdream.network.activations import pre_activation_key, relu_cap
from kerasdream.photo_folder import REFERENCE_PHOTOS, SKIMAGE, Reference, folder_reference

__all__ = [
    "BATCH", "BATCH_PIXELS", "EAGER_PIXELS", "FLAT_STD", "NATURAL_CROPS", "NATURAL_PHOTOS",
    "REFERENCE_PHOTOS", "SKIMAGE", "Reference", "folder_reference", "reference_crops",
    "reference_photos",
    "channel_means", "clipped_fraction", "column_selective", "constant_channels", "crop_boxes",
    "feature_key", "features", "high_frequency", "is_flat", "key_means", "layer_means", "memo",
    "natural_crops", "natural_high_frequency", "natural_key_means", "natural_maxima",
    "natural_means", "natural_photos", "natural_ratio", "photo_crops", "pixel_std",
    "pre_activation_key", "rank_of", "relative_error", "relu_cap", "robust_channel_means",
    "robust_key_means", "robust_views", "score_dreams", "scoring_keys", "view_matrix",
    "view_parameters",
]
