from setuptools import find_packages, setup

setup(
    name="kerasdream",
    version="0.1.0",
    description="Feature visualization for Keras CNNs: dreams trained with model.fit.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["kerasdream", "kerasdream.*"]),
    package_data={"kerasdream": ["network/weights/*.h5", "site/template/*", "param/data/*.npz"]},
    install_requires=[
        # The one TensorFlow distribution every platform has: on a machine
        # with TensorFlow (GPU) installed, pip keeps it. (`tensorflow-cpu` is
        # another distribution of the same module: pip would add a copy.)
        "tensorflow>=2.16",
        "keras>=3.6",
        "numpy",
        "matplotlib",
        "h5py",
        "pillow",
    ],
    extras_require={
        # Everything the test suite runs: the cluster tests need Dask and the
        # atlas viewer's browser test Playwright (plus a system Chromium).
        # mtcnn: its three trained face networks (PNet, RNet, ONet) are real
        # models nobody here wrote; a 1.9 MB pure-Python wheel (+ joblib, lz4).
        # pytest-xdist: the suite runs on two workers (tests/pytest.ini).
        "test": ["pytest", "pytest-xdist", "scikit-image", "scikit-learn", "nbclient",
                 "nbformat", "ipykernel", "dask[distributed]", "playwright>=1.40",
                 "umap-learn", "mtcnn>=1.0"],
        # Keras' other backends. PyTorch: install the CPU-only wheel yourself
        # (pip install torch --index-url https://download.pytorch.org/whl/cpu);
        # PyPI's default one brings several GB of CUDA libraries.
        "jax": ["jax"],
        # `--cluster`: galleries and atlases as tasks on a Dask cluster
        # (kerasdream.runs.cluster); pure Python, about 40 MB with its dependencies.
        "cluster": ["dask[distributed]"],
        "benchmarks": ["tf-keras-vis==0.8.7"],
        # The atlas viewer's browser test: Playwright drives the system's
        # Chromium (Debian: apt-get install chromium); it never downloads one.
        "browser": ["playwright>=1.40"],
        # The documentation site: `pip install -e '.[docs]' && mkdocs serve`.
        "docs": ["mkdocs>=1.6,<2", "mkdocs-material>=9.5,<10", "mkdocstrings[python]>=0.26",
                 "mkdocs-jupyter>=0.25"],
        # `activation-atlas`: its default 2-D layout (--method umap); t-SNE
        # (--method tsne) needs scikit-learn instead.
        "atlas": ["umap-learn"],
    },
    entry_points={"console_scripts": ["kerasdream = kerasdream.cli:main"]},
)
