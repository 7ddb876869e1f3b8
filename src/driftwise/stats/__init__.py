"""Pure numeric kernels: two-sample tests and distances, binning, corrections.

Arrays in, :class:`TwoSampleResult` out. No pandas, no I/O, nothing else of driftwise.
"""

from driftwise.stats._pair import SortedPair
from driftwise.stats._result import TwoSampleResult
from driftwise.stats.binning import counts_in_bins, quantile_edges
from driftwise.stats.categorical import chi2_homogeneity, fisher_exact, g_test
from driftwise.stats.correction import adjust, benjamini_hochberg, bonferroni
from driftwise.stats.distances import (
    energy_distance,
    hellinger_distance,
    jensen_shannon_distance,
    kl_divergence,
    linf_distance,
    population_stability_index,
    total_variation_distance,
    wasserstein_distance,
)
from driftwise.stats.numeric import (
    anderson_ksamp,
    cramervonmises_2samp,
    ks_2samp,
    mannwhitneyu,
)

__all__ = [
    "SortedPair",
    "TwoSampleResult",
    "adjust",
    "anderson_ksamp",
    "benjamini_hochberg",
    "bonferroni",
    "chi2_homogeneity",
    "counts_in_bins",
    "cramervonmises_2samp",
    "energy_distance",
    "fisher_exact",
    "g_test",
    "hellinger_distance",
    "jensen_shannon_distance",
    "kl_divergence",
    "ks_2samp",
    "linf_distance",
    "mannwhitneyu",
    "population_stability_index",
    "quantile_edges",
    "total_variation_distance",
    "wasserstein_distance",
]
