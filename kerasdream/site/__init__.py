"""The atlas as a static site: the manifest and the viewer."""
