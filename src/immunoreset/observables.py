"""Canonical names and units of the quantities that appear in result tables.

Models map their states onto these names; endpoints, reports and the trial layer read result tables
by these names only, so any model that emits an observable feeds every endpoint built on it. A result
table is long in time and wide in observables: columns ``patient_id`` (int), ``time`` (day, day 0 =
first CAR infusion) and one column per observable, in the unit listed here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Observable:
    """A named, unit-bearing quantity that a model can emit and an endpoint can read."""

    name: str
    unit: str
    description: str
    nonnegative: bool = True
    display: str = ""

    @property
    def label(self) -> str:
        """Display name with unit, for plots and reports (e.g. ``"B cells, blood [cells/uL]"``)."""
        return f"{self.display or self.description} [{self.unit}]"


_ALL = (
    # CAR cell kinetics
    Observable("car_t_blood", "cells/uL", "CAR-positive cells in peripheral blood (all subsets)"),
    Observable("car_transgene", "copies/ug DNA", "CAR transgene in blood by qPCR"),
    Observable("car_t_naive_blood", "cells/uL", "naive / stem-like CAR cells in blood"),
    Observable("car_t_cm_blood", "cells/uL", "central-memory CAR cells in blood"),
    Observable("car_t_em_blood", "cells/uL", "effector-memory CAR cells in blood"),
    Observable("car_t_eff_blood", "cells/uL", "effector CAR cells in blood"),
    Observable("car_t_marrow", "cells/uL", "CAR cells in bone marrow (per uL marrow volume)"),
    # B lineage
    Observable("b_cells_blood", "cells/uL", "CD19+ B cells in peripheral blood"),
    Observable("b_cells_autoreactive_blood", "cells/uL", "autoreactive CD19+ B cells in blood"),
    Observable("b_cells_marrow", "cells/uL", "CD19+ B cells in bone marrow (per uL marrow volume)"),
    # Host haematology
    Observable("cd4_t_blood", "cells/uL", "host (non-CAR) CD4+ T cells in blood"),
    Observable("cd8_t_blood", "cells/uL", "host (non-CAR) CD8+ T cells in blood"),
    Observable("neutrophils", "cells/uL", "absolute neutrophil count"),
    Observable("platelets", "cells/uL", "platelet count"),
    # Antibodies and SLE serology
    Observable("anti_dsdna", "IU/mL", "anti-double-stranded-DNA IgG"),
    Observable("igg_total", "g/L", "total serum IgG"),
    Observable("c3", "mg/dL", "complement C3"),
    Observable("c4", "mg/dL", "complement C4"),
    Observable("ifn_alpha", "pg/mL", "serum interferon-alpha"),
    Observable("proteinuria", "mg/g creatinine", "urine protein excretion"),
    Observable(
        "sledai_c3_regression",
        "score",
        "SLEDAI predicted from C3 (Park 2025 regression)",
        nonnegative=False,
    ),
    Observable(
        "sledai_ifn_regression",
        "score",
        "SLEDAI predicted from IFN-alpha (Park 2025)",
        nonnegative=False,
    ),
    Observable(
        "sledai_dsdna_regression",
        "score",
        "SLEDAI predicted from anti-dsDNA (Park 2025)",
        nonnegative=False,
    ),
    # Cytokines and toxicity support levels (grades are computed by the instruments)
    Observable("il6", "pg/mL", "serum interleukin-6"),
    Observable("ifn_gamma", "pg/mL", "serum interferon-gamma"),
    Observable("crp", "mg/dL", "serum C-reactive protein"),
    Observable("ferritin", "ng/mL", "serum ferritin"),
    Observable(
        "crs_severity", "index", "latent CRS severity (1 = fever threshold; model-specific)"
    ),
    Observable(
        "icans_severity", "index", "latent neurotoxicity severity (ICE points lost; model-specific)"
    ),
    Observable("tocilizumab", "ug/mL", "serum tocilizumab"),
    Observable("tocilizumab_given", "0/1", "tocilizumab given for CRS (at or before this time)"),
    Observable(
        "corticosteroids_given", "0/1", "corticosteroids given for CRS or ICANS (at or before)"
    ),
    Observable("temp_c", "deg C", "maximum body temperature of the assessment period"),
    Observable("hypotension", "0/1", "hypotension present (1) or absent (0)"),
    Observable("n_vasopressors", "count", "distinct vasopressors other than vasopressin"),
    Observable("vasopressin", "0/1", "vasopressin given"),
    Observable(
        "oxygen_level",
        "ordinal 0-4",
        "oxygen support: 0 none, 1 low-flow nasal cannula or blow-by, 2 high-flow/facemask,"
        " 3 positive pressure (CPAP/BiPAP), 4 mechanical ventilation",
    ),
    Observable("ice_score", "points 0-10", "ICE encephalopathy screen"),
    Observable(
        "consciousness",
        "ordinal 0-4",
        "ICANS level of consciousness: 0 normal, 1 awakens spontaneously, 2 to voice,"
        " 3 only to touch, 4 unarousable",
    ),
    Observable(
        "seizure",
        "ordinal 0-2",
        "ICANS seizures: 0 none, 1 rapidly resolving or EEG-responsive, 2 prolonged or repetitive",
    ),
    Observable(
        "motor_weakness", "0/1", "ICANS deep focal motor weakness (hemiparesis, paraparesis)"
    ),
    Observable(
        "cerebral_edema",
        "ordinal 0-2",
        "ICANS raised intracranial pressure: 0 none, 1 focal oedema on imaging, 2 diffuse oedema,"
        " decerebrate or decorticate posturing, cranial nerve VI palsy, papilloedema or Cushing's"
        " triad",
    ),
    # Disease activity
    Observable("mrss", "points 0-51", "modified Rodnan skin score"),
    Observable("ck", "U/L", "serum creatine kinase"),
    Observable("mmt8", "points 0-80", "manual muscle testing, 8 groups"),
    # Integrated model: tissues, plasma cells, further antibodies, SLE clinical read-outs
    Observable("car_t_lymphoid", "cells/uL", "CAR cells in lymphoid tissue (per uL tissue volume)"),
    Observable("car_t_exhausted_blood", "cells/uL", "exhausted CAR cells in blood"),
    Observable(
        "car_t_second_product_blood", "cells/uL", "CAR cells of a co-infused second product"
    ),
    Observable("b_cells_lymphoid", "cells/uL", "mature B cells in lymphoid tissue (per uL tissue)"),
    Observable(
        "plasma_cells_short",
        "cells/uL",
        "plasmablasts and short-lived plasma cells (per uL lymphoid tissue)",
    ),
    Observable(
        "plasma_cells_long", "cells/uL", "long-lived plasma cells in marrow (per uL marrow)"
    ),
    Observable("anti_ro", "U/mL", "anti-Ro/SSA IgG"),
    Observable("vaccine_titre", "IU/mL", "vaccine-induced IgG (tetanus antitoxin)"),
    Observable("tumour_cells", "cells", "malignant cells in the body"),
    Observable(
        "sle_activity", "index", "clinical SLE activity relative to baseline (1 = baseline)"
    ),
    Observable("sledai_item_arthritis", "0/1", "SLEDAI-2K descriptor arthritis present"),
    Observable("sledai_item_hematuria", "0/1", "SLEDAI-2K descriptor hematuria present"),
    Observable("pga", "points 0-3", "physician global assessment"),
    Observable("prednisolone_mg_day", "mg/day", "prednisolone or equivalent"),
)

OBSERVABLES: dict[str, Observable] = {o.name: o for o in _ALL}


def unit_of(name: str) -> str:
    """Unit of observable ``name``; raises ``KeyError`` naming the known observables."""
    try:
        return OBSERVABLES[name].unit
    except KeyError:
        raise KeyError(
            f"unknown observable {name!r}; known: {', '.join(sorted(OBSERVABLES))}"
        ) from None
