"""Customer segmenters: rule-based RFM and clustering, as scikit-learn estimators.

* :class:`RFMSegmenter` - recency/frequency/monetary scores and named segments (Champions ...).
* :class:`KMeansSegmenter`, :class:`GaussianMixtureSegmenter`, :class:`MixedSegmenter` -
  clustering with the preprocessing inside the model and automatic k with evidence.
* :func:`profile_segments` - what each segment is, in a marketer's words, plus CRM rules.
* :func:`save_model` / :func:`load_model` - versioned persistence.
"""

from __future__ import annotations

from seglens.segmenters.choose_k import KSelection, choose_k
from seglens.segmenters.clustering import GaussianMixtureSegmenter, KMeansSegmenter
from seglens.segmenters.mixed import MixedSegmenter
from seglens.segmenters.persistence import load_model, read_metadata, save_model
from seglens.segmenters.preprocessing import FeaturePreprocessor
from seglens.segmenters.profiles import SegmentProfile, SegmentProfiles, profile_segments
from seglens.segmenters.rfm import RFMSegmenter
from seglens.segmenters.segment_map import Segment, SegmentMap
from seglens.segmenters.spark import assign_spark
from seglens.segmenters.tables_io import read_feature_table, write_assignments

__all__ = [
    "FeaturePreprocessor",
    "GaussianMixtureSegmenter",
    "KMeansSegmenter",
    "KSelection",
    "MixedSegmenter",
    "RFMSegmenter",
    "Segment",
    "SegmentMap",
    "SegmentProfile",
    "SegmentProfiles",
    "assign_spark",
    "choose_k",
    "load_model",
    "profile_segments",
    "read_feature_table",
    "read_metadata",
    "save_model",
    "write_assignments",
]
