"""Customer segmenters: rule-based RFM, clustering and learnt from labels; scikit-learn estimators.

* :class:`RFMSegmenter` - recency/frequency/monetary scores and named segments (Champions ...).
* :class:`KMeansSegmenter`, :class:`GaussianMixtureSegmenter`, :class:`MixedSegmenter` -
  clustering with the preprocessing inside the model and automatic k with evidence.
* :class:`SupervisedSegmenter` - segments learnt from reviewers' labels (gradient boosting),
  with :func:`out_of_fold` figures, a :func:`learning_curve` (what more labels buy) and
  :func:`suggest_labels` (which customers to label next); :func:`learn_from_labels` runs it.
* :func:`profile_segments` - what each segment is, in a marketer's words, plus CRM rules.
* :func:`save_model` / :func:`load_model` - versioned persistence.
"""

from __future__ import annotations

from seglens.segmenters.choose_k import KSelection, choose_k
from seglens.segmenters.clustering import GaussianMixtureSegmenter, KMeansSegmenter
from seglens.segmenters.evaluation import (
    ConfusedPair,
    InputImportance,
    OutOfFold,
    SegmentQuality,
    out_of_fold,
)
from seglens.segmenters.from_labels import LearnedSegmentation, learn_from_labels
from seglens.segmenters.learning import CurvePoint, LearningCurve, Projection, learning_curve
from seglens.segmenters.mixed import MixedSegmenter
from seglens.segmenters.persistence import load_model, read_metadata, save_model
from seglens.segmenters.preprocessing import FeaturePreprocessor
from seglens.segmenters.profiles import SegmentProfile, SegmentProfiles, profile_segments
from seglens.segmenters.rfm import RFMSegmenter
from seglens.segmenters.segment_map import Segment, SegmentMap
from seglens.segmenters.spark import assign_spark
from seglens.segmenters.suggest import (
    Suggestions,
    latest_labels,
    suggest_labels,
    teaching_sheet,
)
from seglens.segmenters.supervised import SupervisedSegmenter, columns_repeating_labels
from seglens.segmenters.tables_io import read_feature_table, write_assignments

__all__ = [
    "ConfusedPair",
    "CurvePoint",
    "FeaturePreprocessor",
    "GaussianMixtureSegmenter",
    "InputImportance",
    "KMeansSegmenter",
    "KSelection",
    "LearnedSegmentation",
    "LearningCurve",
    "MixedSegmenter",
    "OutOfFold",
    "Projection",
    "RFMSegmenter",
    "Segment",
    "SegmentMap",
    "SegmentProfile",
    "SegmentProfiles",
    "SegmentQuality",
    "Suggestions",
    "SupervisedSegmenter",
    "assign_spark",
    "choose_k",
    "columns_repeating_labels",
    "latest_labels",
    "learn_from_labels",
    "learning_curve",
    "load_model",
    "out_of_fold",
    "profile_segments",
    "read_feature_table",
    "read_metadata",
    "save_model",
    "suggest_labels",
    "teaching_sheet",
    "write_assignments",
]
