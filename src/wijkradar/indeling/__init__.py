"""One indeling per analysis: bring figures of other boundary years onto the one in use.

A region code means an area *in a boundary year*. Figures of another year are used only when a
crosswalk says how that year's areas lie in the target year's:

* a stored crosswalk (VNG's address-weighted grenswijzigen, one built from overlapping boundaries,
  a gemeente's own table) moves a code's figures onto the areas it became;
* a code that exists in both years and that nothing says changed is taken as the same area:
  "aangenomen ongewijzigd" when that rests only on the absence of evidence, "ongewijzigd" when
  both years' boundaries are stored and agree. Evidence of change: a crosswalk row that splits,
  merges or moves it, another name for it in a year in between, or boundaries that differ.

Counts are moved by weight (a part of a wijk's residents goes with the part of the wijk); rates and
averages become weighted means. A target area is filled only when every area that contributes to
it has a value; otherwise the figure is left out, never half-made.
"""

from wijkradar.indeling.crosswalks import (
    IDENTITY_ASSUMED,
    IDENTITY_GEOMETRY,
    NATIVE,
    crosswalk,
    derive_crosswalks,
    overlap_crosswalk,
    store_overlap_crosswalk,
)
from wijkradar.indeling.moving import (
    Moved,
    count_measures,
    every_value_on,
    figures_on,
    geometries_on,
    move,
    onto,
    residents_of,
    values_on,
)

__all__ = [
    "IDENTITY_ASSUMED",
    "IDENTITY_GEOMETRY",
    "NATIVE",
    "Moved",
    "count_measures",
    "crosswalk",
    "derive_crosswalks",
    "every_value_on",
    "figures_on",
    "geometries_on",
    "move",
    "onto",
    "overlap_crosswalk",
    "residents_of",
    "store_overlap_crosswalk",
    "values_on",
]
