"""Activation atlases (Carter et al., Distill 2019) of any network over your photos.

    from kerasdream.activation_atlas import activation_atlas
    activation_atlas("mobilenet", "conv_pw_11_relu", "photos/", "out/")

`vectors` samples a layer's activation vectors over a folder, `layout` lays
them out in 2-D and averages a grid's cells, `dreams` dreams each cell's
mean direction, `render` draws the whole atlas, `page` writes its web page.
"""

from kerasdream.activation_atlas.atlas import activation_atlas

__all__ = ["activation_atlas"]
