"""ctypes mirrors of the constants, enums, structs and callback types of
include/custscore.h (used by :mod:`custscore._ffi`; tests/test_ffi.py checks
every layout, default and constant against a C program compiled against the
header).

Enum tables map the short names the Python API accepts (the CLI's words) to
the C values.
"""

from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_int, c_int64,
                    c_size_t, c_uint, c_uint64, c_void_p)

# ---------------------------------------------------------------------------
# Constants mirrored from the header.

OPEN_READWRITE = 0x0
OPEN_READONLY = 0x1
OPEN_CREATE = 0x2
SCHEMA_VERSION = 2
MAX_KEY = 255
MAX_SURVEY_ITEMS = 4096
MAX_SURVEY_CONSTRUCTS = 4096
MAX_SURVEY_PATHS = 16384
MAX_BINS = 9
MAX_TIERS = 16
MAX_SEGMENT_RULES = 1000
MAX_PARAMS = 4
MODEL_NAME_SIZE = 64
SEGMENT_OTHERS = "Others"

UNIT = {"day": 1, "week": 2, "month": 3, "year": 4}
KIND = {"orders": 1, "customers": 2, "responses": 3, "complaints": 4}
ZERO_REVENUE = {"adjustment": 0, "purchase": 1}
TIES = {"value": 1, "rank": 2}
FREQUENCY_BASIS = {"occasions": 1, "orders": 2}
MONETARY_BASIS = {"total": 1, "mean": 2}
TIER_MODE = {"percentile": 1, "absolute": 2}
LIFECYCLE = {"prospect": 0, "new": 1, "growing": 2, "mature": 3, "declining": 4, "lapsed": 5}
MODEL = {"bgnbd": 1, "mbgnbd": 2, "pnbd": 3, "gg": 4}
FIT_STATUS = {"converged": 0, "max_iterations": 1, "line_search": 2, "not_finite": 3,
              "at_bound": 4, "singular": 5}
PLS_SCHEME = {"path": 1, "centroid": 2, "factorial": 3}
PLS_MODE = {"mode_a": 0, "mode_b": 1}
PLS_SCALING = {"standardize": 0, "center": 1}
PLS_MISSING = {"missing_mean": 0, "missing_listwise": 1}
CSI_BY = {"none": 0, "month": 1, "quarter": 2, "year": 3, "attribute": 4}
CSI_STATUS = {"ok": 0, "fixed_weights": 1, "negative_weight": 2, "no_convergence": 3,
              "no_data": 4}
SERVQUAL = {"tangibles": 0, "reliability": 1, "responsiveness": 2, "assurance": 3,
            "empathy": 4}
KANO = {"attractive": 0, "one_dimensional": 1, "must_be": 2, "indifferent": 3, "reverse": 4,
        "questionable": 5}
VALUE_QUADRANT = {"unclassified": 0, "value": 1, "potential": 2, "maintain": 3, "low": 4}
LOYALTY_QUADRANT = {"unclassified": 0, "apostle": 1, "mercenary": 2, "hostage": 3,
                    "defector": 4}
CHURN_METHOD = {"window": 1, "label": 2, "btyd": 3, "btyd_alive": 4}
CHURN_BAND_MEDIUM = 0.4
CHURN_BAND_HIGH = 0.7
CHURN_REASONS = 3
CHURN_REASON_MIN = 0.01
CHURN_CALIBRATION_BINS = 10
SERVQUAL_DIMENSIONS = 5
REASONS = 3
KANO_CATEGORIES = 6

IMPORT_OPTIONS_VERSION = 1
SUMMARY_OPTIONS_VERSION = 1
BIN_OPTIONS_VERSION = 1
RFM_OPTIONS_VERSION = 1
TIER_OPTIONS_VERSION = 1
LIFECYCLE_OPTIONS_VERSION = 1
VALUE_OPTIONS_VERSION = 1
FIT_OPTIONS_VERSION = 1
CLV_OPTIONS_VERSION = 1
LOGISTIC_OPTIONS_VERSION = 1
RETENTION_OPTIONS_VERSION = 1
PLS_OPTIONS_VERSION = 1
CSI_OPTIONS_VERSION = 1
SCORE_OPTIONS_VERSION = 1
CHURN_OPTIONS_VERSION = 1
REPORT_OPTIONS_VERSION = 1

# ---------------------------------------------------------------------------
# Types. Every struct carries _c_name_, the C typedef it mirrors (the layout
# test compares sizeof/offsetof of each field with a C program).


class Handle(Structure):
    """Opaque ``custscore`` store handle; only ever used through a pointer."""
    _c_name_ = "custscore"


HandleP = POINTER(Handle)
c_double_p = POINTER(c_double)
c_int_p = POINTER(c_int)
c_int64_p = POINTER(c_int64)
c_size_t_p = POINTER(c_size_t)


class Order(Structure):
    _c_name_ = "custscore_order"
    _fields_ = [("customer", c_char_p), ("order_key", c_char_p), ("ts", c_int64),
                ("revenue", c_double), ("cost", c_double), ("has_cost", c_int)]


REJECT_FN = CFUNCTYPE(c_int, c_int64, c_int, c_char_p, c_void_p)


class ImportOptions(Structure):
    _c_name_ = "custscore_import_options"
    _fields_ = [("version", c_uint), ("delimiter", c_char), ("whitespace", c_int),
                ("no_header", c_int), ("map", c_char_p), ("date_format", c_char_p),
                ("skip_bad", c_int), ("rejects_path", c_char_p), ("on_reject", REJECT_FN),
                ("payload", c_void_p), ("cancel_prefix", c_char_p), ("wide", c_int),
                ("customer_column", c_char_p), ("date_column", c_char_p),
                ("default_ts", c_int64)]
    _defaults_ = {"version": IMPORT_OPTIONS_VERSION, "delimiter": b","}


class ImportReport(Structure):
    _c_name_ = "custscore_import_report"
    _fields_ = [("lines", c_int64), ("records", c_int64), ("added", c_int64),
                ("replaced", c_int64), ("rejected", c_int64)]


class Summary(Structure):
    _c_name_ = "custscore_summary"
    _fields_ = [("customer", c_char_p), ("first", c_int64), ("last", c_int64), ("x", c_int64),
                ("t_x", c_double), ("T", c_double), ("orders", c_int64), ("revenue", c_double),
                ("cost", c_double), ("profit", c_double), ("mean_repeat_spend", c_double)]


class SummaryOptions(Structure):
    _c_name_ = "custscore_summary_options"
    _fields_ = [("version", c_uint), ("unit", c_int), ("zero", c_int)]
    _defaults_ = {"version": SUMMARY_OPTIONS_VERSION, "unit": UNIT["week"],
                  "zero": ZERO_REVENUE["adjustment"]}


SUMMARY_FN = CFUNCTYPE(c_int, POINTER(Summary), c_void_p)


class BinOptions(Structure):
    _c_name_ = "custscore_bin_options"
    _fields_ = [("version", c_uint), ("bins", c_int), ("ties", c_int), ("reverse", c_int),
                ("cut_offset", c_double), ("thresholds", c_double_p),
                ("n_thresholds", c_size_t)]
    _defaults_ = {"version": BIN_OPTIONS_VERSION, "bins": 5, "ties": TIES["value"],
                  "cut_offset": 1.0}


class SegmentRule(Structure):
    _c_name_ = "custscore_segment_rule"
    _fields_ = [("name", c_char_p), ("r_min", c_int), ("r_max", c_int), ("f_min", c_int),
                ("f_max", c_int), ("m_min", c_int), ("m_max", c_int)]


class Segments(Structure):
    _c_name_ = "custscore_segments"
    _fields_ = [("count", c_size_t), ("rules", POINTER(SegmentRule))]


class RfmOptions(Structure):
    _c_name_ = "custscore_rfm_options"
    _fields_ = [("version", c_uint), ("bins", c_int), ("ties", c_int), ("cut_offset", c_double),
                ("recency_thresholds", c_double_p), ("n_recency_thresholds", c_size_t),
                ("frequency_thresholds", c_double_p), ("n_frequency_thresholds", c_size_t),
                ("monetary_thresholds", c_double_p), ("n_monetary_thresholds", c_size_t),
                ("frequency", c_int), ("monetary", c_int),
                ("segments", POINTER(SegmentRule)), ("n_segments", c_size_t)]
    _defaults_ = {"version": RFM_OPTIONS_VERSION, "bins": 5, "ties": TIES["value"],
                  "cut_offset": 1.0, "frequency": FREQUENCY_BASIS["occasions"],
                  "monetary": MONETARY_BASIS["total"]}


class WhaleSummary(Structure):
    _c_name_ = "custscore_whale_summary"
    _fields_ = [("customers", c_int64), ("total_profit", c_double), ("peak_profit", c_double),
                ("peak_height", c_double), ("peak_customers", c_int64),
                ("peak_customer_share", c_double), ("loss_tail", c_double),
                ("loss_customers", c_int64), ("loss_customer_share", c_double),
                ("zero_customers", c_int64)]


class TierOptions(Structure):
    _c_name_ = "custscore_tier_options"
    _fields_ = [("version", c_uint), ("mode", c_int), ("cuts", c_double_p), ("n_cuts", c_size_t),
                ("names", POINTER(c_char_p)), ("n_names", c_size_t), ("ties", c_int)]
    _defaults_ = {"version": TIER_OPTIONS_VERSION, "mode": TIER_MODE["percentile"],
                  "ties": TIES["rank"]}


class LifecycleOptions(Structure):
    _c_name_ = "custscore_lifecycle_options"
    _fields_ = [("version", c_uint), ("unit", c_int), ("window", c_double),
                ("lapse_after", c_double), ("new_max_repeats", c_int),
                ("overdue_factor", c_double), ("trend_tolerance", c_double)]
    _defaults_ = {"version": LIFECYCLE_OPTIONS_VERSION, "unit": UNIT["month"], "window": 12.0,
                  "lapse_after": 12.0, "new_max_repeats": 1, "overdue_factor": 2.0,
                  "trend_tolerance": 0.2}


class ValueOptions(Structure):
    _c_name_ = "custscore_value_options"
    _fields_ = [("version", c_uint), ("rfm", RfmOptions), ("tiers", TierOptions),
                ("lifecycle", LifecycleOptions), ("profit_window", c_double),
                ("profit_window_unit", c_int), ("zero", c_int)]
    _defaults_ = {"version": VALUE_OPTIONS_VERSION, "profit_window": 12.0,
                  "profit_window_unit": UNIT["month"], "zero": ZERO_REVENUE["adjustment"]}


class Value(Structure):
    _c_name_ = "custscore_value"
    _fields_ = [("customer", c_char_p), ("recency_days", c_int64), ("frequency", c_int64),
                ("monetary", c_double), ("r", c_int), ("f", c_int), ("m", c_int),
                ("rfm_score", c_int), ("segment", c_char_p), ("segment_index", c_int),
                ("revenue", c_double), ("cost", c_double), ("profit", c_double),
                ("profit_share", c_double), ("profit_rank", c_int64), ("tier", c_int),
                ("tier_name", c_char_p), ("lifecycle", c_int), ("first", c_int64),
                ("last", c_int64), ("orders", c_int64)]


class OrderArrays(Structure):
    _c_name_ = "custscore_order_arrays"
    _fields_ = [("n_customers", c_size_t), ("customer", POINTER(c_char_p)),
                ("offset", c_size_t_p), ("ts", c_int64_p), ("revenue", c_double_p),
                ("cost", c_double_p)]


VALUE_FN = CFUNCTYPE(c_int, POINTER(Value), c_void_p)


class BtydParams(Structure):
    _c_name_ = "custscore_btyd_params"
    _fields_ = [("model", c_int), ("r", c_double), ("alpha", c_double), ("a", c_double),
                ("b", c_double), ("s", c_double), ("beta", c_double)]


class GgParams(Structure):
    _c_name_ = "custscore_gg_params"
    _fields_ = [("p", c_double), ("q", c_double), ("gamma", c_double)]


class FitOptions(Structure):
    _c_name_ = "custscore_fit_options"
    _fields_ = [("version", c_uint), ("model", c_int), ("unit", c_int), ("penalty", c_double),
                ("starts", c_int), ("max_iterations", c_int), ("tolerance", c_double),
                ("name", c_char_p), ("no_store", c_int), ("zero", c_int)]
    _defaults_ = {"version": FIT_OPTIONS_VERSION, "model": MODEL["bgnbd"], "unit": UNIT["week"],
                  "zero": ZERO_REVENUE["adjustment"]}


class FitInfo(Structure):
    _c_name_ = "custscore_fit_info"
    _fields_ = [("model", c_int), ("unit", c_int), ("name", c_char * MODEL_NAME_SIZE),
                ("model_id", c_int64), ("as_of", c_int64), ("fitted_at", c_int64),
                ("n_params", c_int), ("param_name", c_char_p * MAX_PARAMS),
                ("param", c_double * MAX_PARAMS), ("std_error", c_double * MAX_PARAMS),
                ("cov_log", (c_double * MAX_PARAMS) * MAX_PARAMS), ("btyd", BtydParams),
                ("gg", GgParams), ("loglik", c_double), ("aic", c_double), ("bic", c_double),
                ("n", c_int64), ("n_unique", c_int64), ("n_excluded", c_int64),
                ("repeat_purchases", c_double), ("status", c_int), ("iterations", c_int),
                ("evaluations", c_int), ("gradient_norm", c_double), ("starts", c_int),
                ("starts_converged", c_int), ("starts_agreeing", c_int), ("penalty", c_double),
                ("time_scale", c_double), ("spend_frequency_corr", c_double),
                ("mean_spend", c_double), ("zero", c_int)]


class ClvOptions(Structure):
    _c_name_ = "custscore_clv_options"
    _fields_ = [("version", c_uint), ("horizon", c_double), ("horizon_unit", c_int),
                ("discount_rate", c_double), ("margin", c_double), ("interval_level", c_double),
                ("interval_draws", c_int), ("seed", c_uint64), ("purchase_model", c_char_p),
                ("spend_model", c_char_p)]
    _defaults_ = {"version": CLV_OPTIONS_VERSION, "horizon": 12.0, "horizon_unit": UNIT["month"],
                  "discount_rate": 0.10, "margin": 0.0, "interval_level": 0.90,
                  "interval_draws": 200, "seed": 1}


class ClvRow(Structure):
    _c_name_ = "custscore_clv_row"
    _fields_ = [("customer", c_char_p), ("x", c_int64), ("t_x", c_double), ("T", c_double),
                ("mean_spend", c_double), ("p_alive", c_double),
                ("expected_purchases", c_double), ("expected_spend", c_double),
                ("clv", c_double), ("clv_low", c_double), ("clv_high", c_double)]


class ClvInfo(Structure):
    _c_name_ = "custscore_clv_info"
    _fields_ = [("purchase_model", c_int), ("unit", c_int),
                ("purchase_model_name", c_char * MODEL_NAME_SIZE),
                ("spend_model_name", c_char * MODEL_NAME_SIZE), ("purchase_model_id", c_int64),
                ("spend_model_id", c_int64), ("as_of", c_int64), ("horizon", c_double),
                ("horizon_unit", c_int), ("horizon_in_unit", c_double), ("periods", c_int),
                ("discount_rate", c_double), ("margin", c_double),
                ("margin_from_costs", c_int), ("interval_level", c_double),
                ("interval_draws", c_int), ("seed", c_uint64), ("customers", c_int64),
                ("total_clv", c_double)]


CLV_FN = CFUNCTYPE(c_int, POINTER(ClvRow), c_void_p)


class HoldoutRow(Structure):
    _c_name_ = "custscore_holdout_row"
    _fields_ = [("x", c_int64), ("customers", c_int64), ("actual", c_double),
                ("predicted", c_double)]


class HoldoutCustomer(Structure):
    _c_name_ = "custscore_holdout_customer"
    _fields_ = [("customer", c_char_p), ("x", c_int64), ("t_x", c_double), ("T", c_double),
                ("actual", c_int64), ("predicted", c_double)]


HOLDOUT_FN = CFUNCTYPE(c_int, POINTER(HoldoutCustomer), c_void_p)


class HoldoutReport(Structure):
    _c_name_ = "custscore_holdout_report"
    _fields_ = [("calibration_end", c_int64), ("holdout_end", c_int64),
                ("holdout_length", c_double), ("fit", FitInfo), ("customers", c_int64),
                ("actual_total", c_double), ("predicted_total", c_double), ("mae", c_double),
                ("rmse", c_double), ("correlation", c_double), ("n_rows", c_size_t),
                ("rows", POINTER(HoldoutRow))]


class LogisticOptions(Structure):
    _c_name_ = "custscore_logistic_options"
    _fields_ = [("version", c_uint), ("l2", c_double), ("max_iterations", c_int),
                ("tolerance", c_double)]
    _defaults_ = {"version": LOGISTIC_OPTIONS_VERSION, "l2": 1.0, "max_iterations": 100,
                  "tolerance": 1e-10}


class LogisticInfo(Structure):
    _c_name_ = "custscore_logistic_info"
    _fields_ = [("iterations", c_int), ("converged", c_int), ("loglik", c_double),
                ("penalty", c_double), ("n", c_int64), ("base_rate", c_double),
                ("n_constant", c_size_t)]


class CalibrationBin(Structure):
    _c_name_ = "custscore_calibration_bin"
    _fields_ = [("n", c_int64), ("p_min", c_double), ("p_max", c_double),
                ("mean_predicted", c_double), ("observed_rate", c_double)]


class PlsModel(Structure):
    _c_name_ = "custscore_pls_model"
    _fields_ = [("n_constructs", c_size_t), ("item_construct", c_int_p), ("mode", c_int_p),
                ("paths", c_int_p)]


class PlsOptions(Structure):
    _c_name_ = "custscore_pls_options"
    _fields_ = [("version", c_uint), ("scheme", c_int), ("scaling", c_int), ("variance_n", c_int),
                ("tolerance", c_double), ("max_iterations", c_int), ("missing", c_int),
                ("no_sign_fix", c_int), ("bootstrap", c_int), ("seed", c_uint64),
                ("level", c_double), ("no_scores", c_int)]
    _defaults_ = {"version": PLS_OPTIONS_VERSION, "scheme": PLS_SCHEME["path"],
                  "scaling": PLS_SCALING["standardize"], "tolerance": 1e-7,
                  "max_iterations": 300, "missing": PLS_MISSING["missing_mean"], "level": 0.95}


class PlsResult(Structure):
    _c_name_ = "custscore_pls_result"
    _fields_ = [("n_rows", c_size_t), ("n_dropped", c_size_t), ("n_items", c_size_t),
                ("n_constructs", c_size_t), ("converged", c_int), ("iterations", c_int),
                ("last_change", c_double), ("item_column", c_size_t_p),
                ("item_construct", c_int_p), ("rows", c_size_t_p), ("item_mean", c_double_p),
                ("item_sd", c_double_p), ("weights", c_double_p), ("raw_weights", c_double_p),
                ("index_weights", c_double_p), ("loadings", c_double_p),
                ("cross_loadings", c_double_p), ("paths", c_double_p),
                ("total_effects", c_double_p), ("r2", c_double_p), ("r2_adj", c_double_p),
                ("alpha", c_double_p), ("rho_c", c_double_p), ("ave", c_double_p),
                ("gof", c_double), ("construct_mean", c_double_p), ("scores", c_double_p),
                ("boot_resamples", c_int), ("boot_failed", c_int), ("level", c_double),
                ("weights_se", c_double_p), ("weights_low", c_double_p),
                ("weights_high", c_double_p), ("paths_se", c_double_p),
                ("paths_low", c_double_p), ("paths_high", c_double_p),
                ("construct_mean_se", c_double_p), ("construct_mean_low", c_double_p),
                ("construct_mean_high", c_double_p)]


class SurveyModel(Structure):
    """Opaque ``custscore_survey_model``; only ever used through a pointer."""
    _c_name_ = "custscore_survey_model"


SurveyModelP = POINTER(SurveyModel)


class CsiOptions(Structure):
    _c_name_ = "custscore_csi_options"
    _fields_ = [("version", c_uint), ("scheme", c_int), ("scaling", c_int),
                ("tolerance", c_double), ("max_iterations", c_int), ("missing", c_int),
                ("min_respondents", c_size_t), ("bootstrap", c_int), ("seed", c_uint64),
                ("level", c_double), ("from", c_int64), ("to", c_int64), ("by", c_int),
                ("by_attribute", c_char_p), ("nps_item", c_char_p), ("save", c_int)]
    _defaults_ = {"version": CSI_OPTIONS_VERSION, "scheme": PLS_SCHEME["centroid"],
                  "scaling": PLS_SCALING["center"], "tolerance": 1e-7, "max_iterations": 300,
                  "missing": PLS_MISSING["missing_mean"], "level": 0.95, "by": CSI_BY["none"]}


class NpsResult(Structure):
    _c_name_ = "custscore_nps_result"
    _fields_ = [("n", c_size_t), ("promoters", c_size_t), ("passives", c_size_t),
                ("detractors", c_size_t), ("nps", c_double), ("se", c_double),
                ("low", c_double), ("high", c_double)]


class CsiDriver(Structure):
    _c_name_ = "custscore_csi_driver"
    _fields_ = [("construct", c_size_t), ("importance", c_double), ("performance", c_double),
                ("high_importance", c_int)]


class CsiEstimate(Structure):
    _c_name_ = "custscore_csi_estimate"
    _fields_ = [("group", c_char_p), ("period_start", c_int64), ("period_end", c_int64),
                ("n", c_size_t), ("n_dropped", c_size_t), ("status", c_int),
                ("message", c_char_p), ("converged", c_int), ("iterations", c_int),
                ("index", c_double), ("index_se", c_double), ("index_low", c_double),
                ("index_high", c_double), ("index_equal", c_double),
                ("construct_index", c_double_p), ("construct_index_low", c_double_p),
                ("construct_index_high", c_double_p), ("weights", c_double_p),
                ("outer_weights", c_double_p), ("outer_weights_se", c_double_p),
                ("outer_weights_low", c_double_p), ("outer_weights_high", c_double_p),
                ("loadings", c_double_p), ("paths", c_double_p), ("paths_se", c_double_p),
                ("paths_low", c_double_p), ("paths_high", c_double_p),
                ("total_effects", c_double_p), ("r2", c_double_p), ("r2_adj", c_double_p),
                ("alpha", c_double_p), ("rho_c", c_double_p), ("ave", c_double_p),
                ("gof", c_double), ("has_nps", c_int), ("nps", NpsResult),
                ("n_drivers", c_size_t), ("drivers", POINTER(CsiDriver))]


class CsiResult(Structure):
    _c_name_ = "custscore_csi_result"
    _fields_ = [("model", c_char_p), ("n_items", c_size_t), ("n_constructs", c_size_t),
                ("item_names", POINTER(c_char_p)), ("item_construct", c_int_p),
                ("construct_names", POINTER(c_char_p)), ("paths", c_int_p), ("target", c_size_t),
                ("nps_item", c_char_p), ("scheme", c_int), ("overall", CsiEstimate),
                ("n_groups", c_size_t), ("groups", POINTER(CsiEstimate))]


CSI_CUSTOMER_FN = CFUNCTYPE(c_int, c_char_p, c_int64, c_double, c_void_p)


class ServqualResult(Structure):
    _c_name_ = "custscore_servqual_result"
    _fields_ = [("n_items", c_size_t), ("item_names", POINTER(c_char_p)),
                ("item_dimension", c_int_p), ("item_n", c_size_t_p),
                ("expectation", c_double_p), ("perception", c_double_p), ("gap", c_double_p),
                ("dimension_items", c_size_t * SERVQUAL_DIMENSIONS),
                ("dimension_expectation", c_double * SERVQUAL_DIMENSIONS),
                ("dimension_perception", c_double * SERVQUAL_DIMENSIONS),
                ("dimension_gap", c_double * SERVQUAL_DIMENSIONS), ("overall_gap", c_double),
                ("weighted_gap", c_double), ("weakest", c_int)]


class KanoFeature(Structure):
    _c_name_ = "custscore_kano_feature"
    _fields_ = [("name", c_char_p), ("n", c_size_t), ("count", c_size_t * KANO_CATEGORIES),
                ("category", c_int), ("better", c_double), ("worse", c_double)]


class KanoResult(Structure):
    _c_name_ = "custscore_kano_result"
    _fields_ = [("n_features", c_size_t), ("features", POINTER(KanoFeature))]


class RetentionOptions(Structure):
    _c_name_ = "custscore_retention_options"
    _fields_ = [("version", c_uint), ("period", c_int), ("max_periods", c_int),
                ("since", c_int64)]
    _defaults_ = {"version": RETENTION_OPTIONS_VERSION, "period": UNIT["month"],
                  "max_periods": 24}


class Cohort(Structure):
    _c_name_ = "custscore_cohort"
    _fields_ = [("start", c_int64), ("customers", c_int64), ("repeat_rate", c_double),
                ("mean_interpurchase_days", c_double), ("repeat_revenue_share", c_double),
                ("n_periods", c_size_t), ("retention", c_double_p)]


class PeriodStats(Structure):
    _c_name_ = "custscore_period_stats"
    _fields_ = [("start", c_int64), ("active", c_int64), ("new_customers", c_int64),
                ("retention_rate", c_double), ("repeat_purchase_rate", c_double),
                ("mean_interpurchase_days", c_double), ("revenue", c_double),
                ("repeat_revenue_share", c_double)]


class Retention(Structure):
    _c_name_ = "custscore_retention"
    _fields_ = [("period", c_int), ("as_of", c_int64), ("n_cohorts", c_size_t),
                ("cohorts", POINTER(Cohort)), ("n_periods", c_size_t),
                ("periods", POINTER(PeriodStats)), ("repeat_rate", c_double),
                ("mean_interpurchase_days", c_double)]


class ChurnOptions(Structure):
    _c_name_ = "custscore_churn_options"
    _fields_ = [("version", c_uint), ("method", c_int), ("window_days", c_double),
                ("label", c_char_p), ("label_positive", c_char_p), ("features", c_char_p),
                ("behaviour", c_int), ("holdout", c_double), ("seed", c_uint64),
                ("l2", c_double), ("lookback_days", c_double), ("complaint_days", c_double),
                ("rare_level", c_double), ("band_medium", c_double), ("band_high", c_double),
                ("model_name", c_char_p), ("btyd_model", c_char_p), ("survey_model", c_char_p),
                ("no_store", c_int), ("no_clv", c_int)]
    _defaults_ = {"version": CHURN_OPTIONS_VERSION, "behaviour": -1, "holdout": 0.3, "seed": 1,
                  "l2": 1.0, "lookback_days": 365.0, "complaint_days": 90.0,
                  "rare_level": 0.01}


class ChurnCoef(Structure):
    _c_name_ = "custscore_churn_coef"
    _fields_ = [("name", c_char_p), ("group", c_char_p), ("coefficient", c_double),
                ("std_error", c_double), ("std_coefficient", c_double), ("mean", c_double),
                ("sd", c_double)]


class ChurnCard(Structure):
    _c_name_ = "custscore_churn_card"
    _fields_ = [("model_name", c_char_p), ("method", c_int), ("fitted_at", c_int64),
                ("as_of", c_int64), ("cutoff", c_int64), ("window_days", c_double),
                ("label", c_char_p), ("btyd_model", c_char_p), ("survey_model", c_char_p),
                ("prior_gap_days", c_double), ("intercept", c_double), ("n_coefs", c_size_t),
                ("coefs", POINTER(ChurnCoef)), ("l2", c_double), ("iterations", c_int),
                ("converged", c_int), ("n_train", c_int64), ("n_holdout", c_int64),
                ("base_rate", c_double), ("holdout_base_rate", c_double),
                ("train_auc", c_double), ("auc", c_double), ("brier", c_double),
                ("lift_top_decile", c_double), ("n_calibration", c_size_t),
                ("calibration", POINTER(CalibrationBin)), ("band_medium", c_double),
                ("band_high", c_double), ("params_json", c_char_p), ("info_json", c_char_p)]


class ChurnReason(Structure):
    _c_name_ = "custscore_churn_reason"
    _fields_ = [("feature", c_char_p), ("text", c_char_p), ("contribution", c_double)]


class ChurnScore(Structure):
    _c_name_ = "custscore_churn_score"
    _fields_ = [("customer", c_char_p), ("probability", c_double), ("band", c_char_p),
                ("band_level", c_int), ("logit", c_double), ("logit_at_mean", c_double),
                ("n_reasons", c_size_t), ("reason", ChurnReason * CHURN_REASONS),
                ("n_groups", c_size_t), ("groups", POINTER(c_char_p)),
                ("contribution", c_double_p), ("has_clv", c_int), ("clv", c_double),
                ("value_at_risk", c_double)]


CHURN_FN = CFUNCTYPE(c_int, POINTER(ChurnScore), c_void_p)


class ScoreOptions(Structure):
    _c_name_ = "custscore_score_options"
    _fields_ = [("version", c_uint), ("value", ValueOptions), ("clv", ClvOptions),
                ("current_value_split", c_double), ("future_value_split", c_double),
                ("satisfaction_split", c_double), ("loyalty_split", c_double),
                ("band_medium", c_double), ("band_high", c_double), ("survey_model", c_char_p),
                ("no_store", c_int)]
    _defaults_ = {"version": SCORE_OPTIONS_VERSION, "current_value_split": float("nan"),
                  "future_value_split": float("nan"), "satisfaction_split": float("nan"),
                  "loyalty_split": float("nan")}


class Score(Structure):
    _c_name_ = "custscore_score"
    _fields_ = [("customer", c_char_p), ("value", Value), ("current_value", c_double),
                ("repeat_purchases", c_int64), ("mean_interpurchase_days", c_double),
                ("p_alive", c_double), ("expected_purchases", c_double),
                ("expected_spend", c_double), ("clv", c_double), ("clv_low", c_double),
                ("clv_high", c_double), ("clv_note", c_char_p), ("churn_probability", c_double),
                ("band", c_char_p), ("reason", c_char_p * REASONS),
                ("reason_contribution", c_double * REASONS), ("value_at_risk", c_double),
                ("churn_note", c_char_p), ("satisfaction", c_double),
                ("satisfaction_ts", c_int64), ("satisfaction_note", c_char_p),
                ("loyalty", c_double), ("value_quadrant", c_int), ("loyalty_quadrant", c_int)]


SCORE_FN = CFUNCTYPE(c_int, POINTER(Score), c_void_p)


class ScoreInfo(Structure):
    _c_name_ = "custscore_score_info"
    _fields_ = [("as_of", c_int64), ("customers", c_int64), ("has_clv", c_int),
                ("has_churn", c_int), ("has_satisfaction", c_int),
                ("current_value_split", c_double), ("future_value_split", c_double),
                ("satisfaction_split", c_double), ("loyalty_split", c_double),
                ("value_quadrant_count", c_int64 * 5), ("loyalty_quadrant_count", c_int64 * 5),
                ("band_count", c_int64 * 3), ("total_profit", c_double),
                ("total_clv", c_double), ("total_value_at_risk", c_double), ("saved", c_int)]


class SnapshotRow(Structure):
    _c_name_ = "custscore_snapshot_row"
    _fields_ = [("customer", c_char_p), ("as_of", c_int64), ("scored_at", c_int64),
                ("rfm_score", c_int), ("segment", c_char_p), ("tier", c_char_p),
                ("lifecycle", c_char_p), ("profit", c_double), ("current_value", c_double),
                ("clv", c_double), ("p_alive", c_double), ("churn_probability", c_double),
                ("band", c_char_p), ("value_at_risk", c_double), ("satisfaction", c_double),
                ("value_quadrant", c_char_p), ("loyalty_quadrant", c_char_p),
                ("json", c_char_p)]


class Change(Structure):
    _c_name_ = "custscore_change"
    _fields_ = [("customer", c_char_p), ("before", SnapshotRow), ("after", SnapshotRow),
                ("tier_changed", c_int), ("segment_changed", c_int), ("band_changed", c_int),
                ("value_at_stake", c_double)]


CHANGE_FN = CFUNCTYPE(c_int, POINTER(Change), c_void_p)


class ReportOptions(Structure):
    _c_name_ = "custscore_report_options"
    _fields_ = [("version", c_uint), ("score", ScoreOptions), ("title", c_char_p), ("top", c_int),
                ("survey_model", c_char_p), ("csi_bootstrap", c_int), ("seed", c_uint64),
                ("max_points", c_size_t)]
    _defaults_ = {"version": REPORT_OPTIONS_VERSION, "top": 20, "csi_bootstrap": -1, "seed": 1,
                  "max_points": 1500}


def _init_defaults(cls):
    """Give a Structure subclass with _defaults_ a constructor default that
    mirrors its C ``*_INIT`` macro (nested option structs included)."""
    defaults = getattr(cls, "_defaults_", None)
    if defaults is None:
        return

    def __init__(self, *args, **kwargs):
        Structure.__init__(self)
        for field, ftype in self._fields_:
            if isinstance(ftype, type) and issubclass(ftype, Structure) and \
                    getattr(ftype, "_defaults_", None) is not None:
                setattr(self, field, ftype())
        for field, value in self._defaults_.items():
            setattr(self, field, value)
        for (field, _), value in zip(self._fields_, args):
            setattr(self, field, value)
        for field, value in kwargs.items():
            setattr(self, field, value)
    cls.__init__ = __init__


#: Every Structure class mirroring a C struct (the layout test walks it).
STRUCTS = [obj for obj in list(globals().values())
           if isinstance(obj, type) and issubclass(obj, Structure) and obj is not Structure
           and hasattr(obj, "_fields_")]
for _cls in STRUCTS:
    _init_defaults(_cls)

