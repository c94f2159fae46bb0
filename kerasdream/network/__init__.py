"""The user's network, read and never changed: loading, preprocessing, layer facts, feature views."""
