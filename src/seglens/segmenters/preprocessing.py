"""The preprocessing that every clustering segmenter fits and carries inside the model.

Customer features are skewed (spend, order counts), on different scales and partly categorical.
:class:`FeaturePreprocessor` learns, once, which numeric columns get a signed ``log1p``, the
median used for missing values, the centring/scaling, and the category vocabulary; the fitted
segmenter applies exactly the same steps to new customers (in-process or on Spark).
"""

# ruff: noqa: N803  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from seglens.errors import DataError
from seglens.segmenters._tabular import ID_COLUMN, require_columns, to_polars

__all__ = ["FeaturePreprocessor", "signed_log1p"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int32]]


def signed_log1p(x: FloatArray) -> FloatArray:
    """``sign(x) * log1p(|x|)``: a log that keeps order and accepts negatives (returns)."""
    return np.copysign(np.log1p(np.abs(x)), x)


class FeaturePreprocessor(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Impute, log-transform skewed columns, scale, and encode categories.

    Parameters
    ----------
    numeric : list of str, optional
        Numeric columns to use; default every numeric column except ``id_column``.
    categorical : list of str, optional
        Categorical columns; default every string/categorical/boolean column except the id.
    log_transform : "auto", bool or list of str
        ``"auto"`` applies a signed ``log1p`` to columns whose skewness exceeds
        ``skew_threshold``; ``True``/``False`` to all/none; a list names the columns.
    skew_threshold : float
        Skewness above which ``"auto"`` logs a column.
    scale : bool
        Centre on the mean and divide by the standard deviation (after the log).
    max_categories : int
        Categories kept per column (most frequent); the rest share one "other" code.
    categorical_weight : float
        Multiplier on the one-hot block, to balance categories against numeric columns.
    id_column : str
        Identifier column, never used as a feature.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"customer_id": ["a", "b", "c"], "spend": [10.0, 100.0, 1000.0]})
    >>> pre = FeaturePreprocessor(log_transform=True).fit(df)
    >>> pre.transform(df).round(3).ravel().tolist()
    [-1.218, -0.014, 1.232]
    """

    def __init__(
        self,
        numeric: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        log_transform: Literal["auto"] | bool | Sequence[str] = "auto",
        skew_threshold: float = 1.0,
        scale: bool = True,
        max_categories: int = 20,
        categorical_weight: float = 1.0,
        id_column: str = ID_COLUMN,
    ) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.log_transform = log_transform
        self.skew_threshold = skew_threshold
        self.scale = scale
        self.max_categories = max_categories
        self.categorical_weight = categorical_weight
        self.id_column = id_column

    # -- fitting -------------------------------------------------------------------------------
    def _pick_columns(self, df: pl.DataFrame) -> tuple[list[str], list[str]]:
        cols = [c for c in df.columns if c != self.id_column]
        given_cat = list(self.categorical) if self.categorical is not None else None
        if self.numeric is not None:
            num = list(self.numeric)
        else:
            num = [c for c in cols if df.schema[c].is_numeric() and c not in (given_cat or [])]
        if given_cat is not None:
            cat = given_cat
        elif self.numeric is not None:
            cat = []
        else:
            cat = [c for c in cols if not df.schema[c].is_numeric()]
        require_columns(df, num + cat, what="the segmenter")
        bad = [c for c in num if not df.schema[c].is_numeric()]
        if bad:
            raise DataError(
                f"column(s) {', '.join(map(repr, bad))} are not numeric",
                column=bad[0],
                hint="list them as categorical, or convert them to numbers first",
            )
        if not num and not cat:
            raise DataError(
                "the table has no feature columns to segment on",
                hint="give a table with numeric or categorical columns besides the customer id",
            )
        return num, cat

    def fit(self, X: Any, y: Any = None) -> FeaturePreprocessor:
        """Learn columns, log choice, fill values, centre/scale and category vocabularies."""
        self._fit(to_polars(X, numeric_only=False))
        return self

    def _fit(self, df: pl.DataFrame) -> None:
        self.n_features_in_ = df.width
        num, cat = self._pick_columns(df)
        self.numeric_columns_ = num
        self.categorical_columns_ = cat
        clean = [pl.col(c).cast(pl.Float64).fill_nan(None) for c in num]
        stats = (
            df.select(
                [e.median().alias(f"med{j}") for j, e in enumerate(clean)]
                + [e.skew().alias(f"skew{j}") for j, e in enumerate(clean)]
            ).row(0)
            if num
            else ()
        )
        p = len(num)
        self.fill_values_ = np.array([v if v is not None else 0.0 for v in stats[:p]], dtype=float)
        skews = np.array([v if v is not None else 0.0 for v in stats[p:]], dtype=float)
        self.log_mask_ = self._log_mask(np.nan_to_num(skews))
        self.center_ = np.zeros(p)
        self.scale_ = np.ones(p)
        if self.scale and p:
            unscaled = self._expressions()
            agg = df.select(
                [e.mean().alias(f"m{j}") for j, e in enumerate(unscaled)]
                + [e.std(ddof=0).alias(f"s{j}") for j, e in enumerate(unscaled)]
            ).row(0)
            self.center_ = np.array([v if v is not None else 0.0 for v in agg[:p]], dtype=float)
            std = np.array([v if v is not None else 1.0 for v in agg[p:]], dtype=float)
            self.scale_ = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)
        self.categories_: list[list[str]] = []
        for c in cat:
            counts = (
                df.get_column(c)
                .cast(pl.String)
                .fill_null("(missing)")
                .value_counts(sort=True, name="n")
            )
            top = counts.sort(["n", c], descending=[True, False]).get_column(c)
            self.categories_.append(top.head(self.max_categories).to_list())
        self.feature_names_out_ = list(num) + [
            f"{c}={v}" for c, vals in zip(cat, self.categories_, strict=True) for v in vals
        ]

    def _log_mask(self, skews: FloatArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
        n = skews.shape[0]
        lt = self.log_transform
        if lt is True or lt is False:
            return np.full(n, bool(lt))
        if isinstance(lt, str):
            if lt != "auto":
                raise DataError(
                    f"log_transform must be 'auto', True, False or a list of columns, not {lt!r}"
                )
            return np.asarray(skews > self.skew_threshold, dtype=bool)
        names = set(lt)
        return np.array([c in names for c in self.numeric_columns_], dtype=bool)

    def _expressions(self, *, scaled: bool = False) -> list[pl.Expr]:
        """Polars expressions: impute, signed log where chosen, and (optionally) scale."""
        out = []
        for j, c in enumerate(self.numeric_columns_):
            e = pl.col(c).cast(pl.Float64).fill_nan(None).fill_null(float(self.fill_values_[j]))
            if self.log_mask_[j]:
                e = e.abs().log1p() * e.sign()
            if scaled:
                e = (e - float(self.center_[j])) / float(self.scale_[j])
            out.append(e.alias(c))
        return out

    # -- transforming --------------------------------------------------------------------------
    def _frame(self, X: Any) -> pl.DataFrame:
        check_is_fitted(self, "fill_values_")
        if isinstance(X, pl.DataFrame) or hasattr(X, "columns"):
            df = to_polars(X, numeric_only=False)
        else:
            names = list(self.numeric_columns_) + list(self.categorical_columns_)
            df = to_polars(X, numeric_only=not self.categorical_columns_, names=names)
        require_columns(
            df, self.numeric_columns_ + self.categorical_columns_, what="the fitted segmenter"
        )
        return df

    def transform_numeric(self, X: Any) -> FloatArray:
        """Imputed, logged and scaled numeric block (rows × numeric columns)."""
        df = self._frame(X)
        if not self.numeric_columns_:
            return np.empty((df.height, 0))
        z = np.ascontiguousarray(df.select(self._expressions(scaled=True)).to_numpy(), float)
        if not np.isfinite(z.sum()) and np.isinf(z).any():
            raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
        return z

    def transform_codes(self, X: Any) -> IntArray:
        """Category codes (rows × categorical columns); unseen/rare values get the code -1."""
        df = self._frame(X)
        out = np.empty((df.height, len(self.categorical_columns_)), dtype=np.int32)
        for j, (c, cats) in enumerate(
            zip(self.categorical_columns_, self.categories_, strict=True)
        ):
            s = df.get_column(c).cast(pl.String).fill_null("(missing)")
            mapped = s.replace_strict(
                cats, list(range(len(cats))), default=-1, return_dtype=pl.Int32
            )
            out[:, j] = mapped.to_numpy()
        return out

    def transform(self, X: Any) -> FloatArray:
        """Numeric block followed by the weighted one-hot block."""
        z = self.transform_numeric(X)
        if not self.categorical_columns_:
            return z
        codes = self.transform_codes(X)
        blocks = [z]
        for j, cats in enumerate(self.categories_):
            onehot = np.zeros((codes.shape[0], len(cats)))
            ok = codes[:, j] >= 0
            onehot[np.flatnonzero(ok), codes[ok, j]] = self.categorical_weight
            blocks.append(onehot)
        return np.hstack(blocks)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray[Any, Any]:
        """Names of the transformed columns (one-hot columns as ``column=value``)."""
        check_is_fitted(self, "fill_values_")
        return np.asarray(self.feature_names_out_, dtype=object)
