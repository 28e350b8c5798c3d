"""Gait-cycle analytics on LocoHub phase-indexed data (150 points per cycle).

``LocomotionData`` keeps LocoHub's API and semantics; its bulk methods (``cycle_features``,
``validate_ranges``, ``subject_analysis``, ``population_analysis``) run the C++ cycle engine over
the whole file in one streamed pass. See docs/gait.md.
"""

from .features import CYCLE_DROP_REASONS, STATS
from .locomotion_data import LocomotionData, efficient_reshape_3d
from .outputs import FeatureMatrix, load_feature_matrix
from .phase import STRIDE_DROP_REASONS, to_phase
from .reader import FEATURE_MARKERS, POINTS_PER_CYCLE
from .validation import RangeReport, Ranges, load_ranges

__all__ = ["LocomotionData", "efficient_reshape_3d", "STATS", "CYCLE_DROP_REASONS", "STRIDE_DROP_REASONS",
           "FEATURE_MARKERS", "POINTS_PER_CYCLE", "load_ranges", "Ranges", "RangeReport", "to_phase", "load_feature_matrix",
           "FeatureMatrix"]
