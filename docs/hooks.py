"""MkDocs hook: the executed notebooks (notebooks/*.ipynb) and CHANGELOG.md
become pages of the site without a copy under docs/."""

import os

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files, config):
    notebooks = os.path.join(ROOT, "notebooks")
    for name in sorted(os.listdir(notebooks)):
        if name.endswith(".ipynb"):
            # A plain File with its src_dir (mkdocs-jupyter's wrapper of a
            # generated File loses its source path).
            files.append(File(f"notebooks/{name}", src_dir=ROOT, dest_dir=config["site_dir"],
                              use_directory_urls=config["use_directory_urls"]))
    files.append(File.generated(config, "changelog.md",
                                abs_src_path=os.path.join(ROOT, "CHANGELOG.md")))
    return files
