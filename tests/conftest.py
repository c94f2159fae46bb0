"""Shared fixtures: tiny CNNs with fixed weights, and an offline KERAS_HOME."""

import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading

_SHARED_CACHE = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "keras-cache")
if "KERAS_HOME" not in os.environ and os.path.isdir(_SHARED_CACHE):
    # A writable copy of the shared cache, so keras finds weights offline.
    _home = tempfile.mkdtemp(prefix="kerasdream-keras-home-")
    shutil.copytree(_SHARED_CACHE, _home, dirs_exist_ok=True)
    os.environ["KERAS_HOME"] = _home
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


# The longest test files, started first: with two workers (pytest.ini) both
# then finish together instead of one waiting on a long file begun late.
LONGEST_FIRST = ("test_notebooks.py", "test_backends.py", "test_atlas_end_to_end.py",
                 "test_cluster.py", "test_reliability.py", "test_distribute.py")


# The command line's default --models-dir, relative to where it runs: the tests
# run in the repository, so a test that forgets --models-dir writes here, and
# two such tests on two workers would take each other's run lock.
REPOSITORY_MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                 "models")


@pytest.fixture(autouse=True)
def _no_test_writes_the_repository_models_folder():
    before = set(os.listdir(REPOSITORY_MODELS)) if os.path.isdir(REPOSITORY_MODELS) else set()
    yield
    after = set(os.listdir(REPOSITORY_MODELS)) if os.path.isdir(REPOSITORY_MODELS) else set()
    assert after <= before, (f"the test wrote {sorted(after - before)} into {REPOSITORY_MODELS}: "
                             f"give its command a --models-dir under tmp_path")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))


def colour_picker(size=8, name="colour_picker"):
    """A 1x1 conv, no bias: channel 0 = red, 1 = green, 2 = blue, 3 = red - blue.

    Every expected value in the tests that use it follows by hand.
    """
    inputs = keras.Input((size, size, 3))
    conv = keras.layers.Conv2D(4, 1, use_bias=False, name="pick")
    outputs = conv(inputs)
    model = keras.Model(inputs, outputs, name=name)
    kernel = np.zeros((1, 1, 3, 4), "float32")
    kernel[0, 0, 0, 0] = kernel[0, 0, 1, 1] = kernel[0, 0, 2, 2] = 1.0
    kernel[0, 0, 0, 3], kernel[0, 0, 2, 3] = 1.0, -1.0
    conv.set_weights([kernel])
    return model


def tiny_cnn(size=None, channels=3, name="tiny_cnn"):
    """Two small conv blocks with fixed pseudo-random weights (seed 0)."""
    inputs = keras.Input((size, size, channels))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv1")(x)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", name="conv2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    model = keras.Model(inputs, x, name=name)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    return model


def _saved(folder, name, model):
    """`model` saved once per session, read-only: every test reads the same file,
    so kerasdream's per-process base cache loads it once."""
    path = str(folder / name)
    model.save(path)
    os.chmod(path, 0o444)
    return path


@pytest.fixture(scope="session")
def tiny_cnn_path(tmp_path_factory):
    return _saved(tmp_path_factory.mktemp("tiny"), "tiny.keras", tiny_cnn())


@pytest.fixture(scope="session")
def colour_picker_path(tmp_path_factory):
    return _saved(tmp_path_factory.mktemp("picker"), "picker.keras", colour_picker())


def gradient_of(function, x):
    """d sum(function(x)) / dx as numpy, on whichever backend Keras runs.

    Tests that check a custom gradient (`RedirectedReLU`) run on every
    backend (`pytest -m backends`, `tests/test_backends.py`); each backend
    has its own way to differentiate.
    """
    x = np.asarray(x, "float32")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            total = tf.reduce_sum(function(tensor))
        return tape.gradient(total, tensor).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda t: keras.ops.sum(function(t)))(x))
    if backend == "torch":
        import torch

        tensor = torch.tensor(x, requires_grad=True)
        torch.sum(function(tensor)).backward()
        return tensor.grad.detach().cpu().numpy()
    raise NotImplementedError(f"No gradient helper for KERAS_BACKEND={backend!r}")


# ------------------------------------------------------------ a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL_BROWSER = ("apt-get update && apt-get install -y chromium && "
                   "pip install 'playwright>=1.40'  (or: pip install -e '.[test]')")


@pytest.fixture
def browser():
    """Headless Chromium driven by Playwright (the system's browser; nothing is
    downloaded). .ci/run installs both and sets KERASDREAM_REQUIRE_BROWSER, so
    there a missing one fails the test instead of skipping it."""
    missing = pytest.fail if os.environ.get("KERASDREAM_REQUIRE_BROWSER") else pytest.skip
    if CHROMIUM is None:
        missing(f"No Chromium on this machine. Install one: {INSTALL_BROWSER}")
    try:
        from playwright import sync_api
    except ImportError:
        missing(f"No Playwright. Install it: {INSTALL_BROWSER}")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            launched.close()


def watched_page(browser, width=1000, height=700, *, http_errors=False):
    """A new page and the list its console errors, page errors and failed
    requests (and, with `http_errors`, responses of status 400 and up) go to."""
    page = browser.new_page(viewport={"width": width, "height": height})
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    if http_errors:
        page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))
    return page, problems


def image_widths(page):
    """`[src, naturalWidth]` of every picture on the page, each scrolled to and
    decoded first (lazy pictures load only when seen); 0 means it is broken."""
    return page.evaluate("""async () => {
        const images = [...document.images];
        for (const image of images) {
            image.scrollIntoView();
            await image.decode().catch(() => {});
        }
        window.scrollTo(0, 0);
        return images.map((image) => [image.getAttribute("src"), image.naturalWidth]);
    }""")


@contextlib.contextmanager
def static_server(folder):
    """A plain static file server for `folder` on a free local port; yields its
    address (search and notebook pages need http://, not file://)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
