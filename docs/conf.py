"""Sphinx configuration of the skdeepclust documentation.

Build (from the repository root; warnings are errors, as in CI)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: there is no intersphinx inventory to download and the theme
uses no remote resources. The gallery (``examples/`` at the repository root) is executed on
every build, so its examples use tiny budgets.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, not another installed copy

import skdeepclust  # noqa: E402

# -- Project ---------------------------------------------------------------------------
project = "skdeepclust"
author = "skdeepclust developers"
copyright = "skdeepclust developers, BSD-3-Clause"
version = release = skdeepclust.__version__

# -- General ---------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
# design/: the developers' working memos, not user documentation.
# images/: the README's pictures (made by make_readme_images.py, which is not an example).
exclude_patterns = [
    "_build",
    "design",
    "images",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    "**.ipynb_checkpoints",
]

# No network in CI: no inventories are fetched. Cross-references to scikit-learn, PyTorch
# and skorch are left as plain literals.
intersphinx_mapping = {}

# -- autodoc / autosummary / numpydoc --------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # types are in the numpydoc "name : type" lines
autodoc_member_order = "bysource"

numpydoc_show_class_members = False  # the class template lists the members
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

# -- MyST (benchmarks/RESULTS.md is included as Markdown) ------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# -- sphinx-gallery --------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Only files named plot_*.py are examples (and run); nothing else in the tree is.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "doc_module": ("skdeepclust",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skdeepclust": None},
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skdeepclust {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
html_context = {"default_mode": "light"}
