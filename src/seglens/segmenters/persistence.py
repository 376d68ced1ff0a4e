"""Save and load fitted segmenters with the library versions they were fitted with.

A model file is a zip holding ``metadata.json`` (seglens / scikit-learn / NumPy / Python
versions, model class, segment names, the automatic-k evidence) and ``model.pkl``. Loading
reads the metadata first and refuses a file written by a different seglens or scikit-learn
version (pickled estimators are not portable across versions) unless ``strict=False``.

Only load model files you trust: unpickling can run code.
"""

from __future__ import annotations

import json
import pickle
import platform
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from seglens.errors import DataError
from seglens.io.atomic import atomic_path

__all__ = ["load_model", "model_parameters", "read_metadata", "save_model"]

FORMAT = "seglens-model"
FORMAT_VERSION = 1


def model_parameters(model: Any) -> dict[str, Any]:
    """The model's ``get_params()`` as JSON-ready values (others as their ``repr``): what a
    stored run records about the segmenter that made it.

    Examples
    --------
    >>> from seglens.segmenters import KMeansSegmenter
    >>> model_parameters(KMeansSegmenter(n_clusters=3))["n_clusters"]
    3
    """
    raw = model.get_params() if hasattr(model, "get_params") else {}
    return {k: v if _is_json(v) else repr(v) for k, v in raw.items()}


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _versions() -> dict[str, str]:
    from seglens import __version__

    return {
        "seglens": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def save_model(model: Any, path: str | Path) -> Path:
    """Write a fitted segmenter to ``path`` (a zip with metadata and the pickled model).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from seglens.segmenters import KMeansSegmenter
    >>> X = np.array([[0.0], [0.1], [9.0], [9.1]])
    >>> m = KMeansSegmenter(n_clusters=2, random_state=0).fit(X)
    >>> p = save_model(m, pathlib.Path(tempfile.mkdtemp()) / "m.seglens")
    >>> load_model(p).predict(np.array([[8.5]])).tolist() == m.predict(np.array([[8.5]])).tolist()
    True
    """
    if not hasattr(model, "segment_names_"):
        raise DataError("only fitted seglens segmenters can be saved (call fit first)")
    sel = getattr(model, "k_selection_", None)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "segment_names": list(model.segment_names_),
        "params": {k: repr(v) for k, v in model.get_params().items()},
        "k_selection": sel.to_dict() if sel is not None else None,
    }
    out = Path(path)
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", json.dumps(meta, indent=2))
        zf.writestr("model.pkl", pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    return out


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of a model file, without unpickling the model."""
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:
            meta = json.loads(zf.read("metadata.json"))
    except FileNotFoundError:
        raise DataError("model file not found", source=str(p)) from None
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError):
        raise DataError(
            "not a seglens model file",
            source=str(p),
            hint="save models with `seglens segment --save-model` or seglens.segmenters.save_model",
        ) from None
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"unsupported model format {meta.get('format')!r} v{meta.get('format_version')}",
            source=str(p),
        )
    return dict(meta)


def load_model(path: str | Path, *, strict: bool = True) -> Any:
    """Load a model saved by :func:`save_model`, checking the recorded versions.

    Parameters
    ----------
    path : str or Path
    strict : bool
        Refuse (``DataError``) a file written by another seglens or scikit-learn version;
        with ``False`` load it with a warning instead.
    """
    meta = read_metadata(path)
    saved, now = meta["versions"], _versions()
    diff = [
        f"{lib} {saved.get(lib)} (installed: {now[lib]})"
        for lib in ("seglens", "scikit-learn")
        if saved.get(lib) != now[lib]
    ]
    if diff:
        msg = "model was saved with " + ", ".join(diff)
        if strict:
            raise DataError(
                msg,
                source=str(path),
                hint="re-fit the model with the installed versions, or load it with "
                "strict=False (CLI: --allow-version-mismatch) and check its assignments",
            )
        warnings.warn(msg + "; results may differ", UserWarning, stacklevel=2)
    with zipfile.ZipFile(path) as zf:
        model = pickle.loads(zf.read("model.pkl"))  # trusted files only (see module docstring)
    return model
