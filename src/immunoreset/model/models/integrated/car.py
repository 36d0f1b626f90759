"""CAR cells: two product slots, three compartments, five phenotypes.

Each slot (``a`` = the product; ``b`` = a second product given in a co-infusion) holds CAR cells in
blood, lymphoid tissue and marrow, each as stem-like/naive (SCM) -> central memory (CM) -> effector
memory (EM) -> effector (EFF), plus exhausted (EXH) cells reached under chronic engagement. CD4+ and
CD8+ cells share one chain; the product's CD4:CD8 split weights the expansion rate (CD4+ expand
1.12 times slower, Park 2025). In compartment ``c``, with ``e_c`` the engaged receptors per CAR
cell and ``A_c`` the molecules per uL of the antigens the slot recognises (:mod:`.binding`), ``N_c``
the slot's active (non-exhausted) CAR cells per uL and ``S`` the slot's stimulation history (days of
activation, cell-weighted over compartments):

    u_c  = A_c / (A_c + ag50_car N_c)                           antigen share per CAR cell
    a_c  = e_c / (EC50 + e_c) * u_c                             antigen drive
    act  = mean_c(e_c / (EC50_act + e_c))                       share of cells activated
    S'   = act - k_rest (1 - act) S                             stimulation history (rest recovers)
    h    = 1 / (1 + (S m_exh / stim50)^n_h)                     proliferative capacity left
    kp   = kexp f_set m_exp a_c h (1 + h_amp lymphopenia)       antigen-driven expansion (Kimmel 2021)
    g    = rho_c * ln(K_C / (host T + CAR T in blood))          Gompertz competition (Kimmel 2021)
    x    = k_exh a_c (1 - h)                                    exhaustion of spent cells
    SCM' = -d_scm m_death SCM - rm1 m_diff a_c h SCM           engaged stem-like cells divide into CM
    CM'  = (kp + g - d_mem m_death - rm2 m_diff - x) CM + (kp + rm1 m_diff a_c h) SCM
    EM'  = (kp + g - d_mem m_death - rm3 m_diff - x) EM + rm2 m_diff CM
    EFF' = -(d_eff + x) EFF + rm3 m_diff EM
    EXH' = x (CM + EM + EFF) - d_exh EXH

How far the pool grows is set by antigen per CAR cell: the cells of a compartment share its target
antigen, so the drive falls as they outnumber their targets (T cells compete for antigen, De Boer
and Perelson 1995) and the peak follows the target burden, hardly the dose (Singh 2021). When it
stops is set by a proliferation programme: a cell engaged at all (``EC50_act``, Singh 2021's
expansion threshold of about ten engaged receptors) is activated, and activated cells expand for
about a week and then stop even though antigen persists (Kaech and Ahmed 2001; van Stipdonk 2001),
which is what ends expansion while CD19+ marrow precursors keep presenting antigen. The history
advances with the share of cells activated and is undone only in the share at rest (``k_rest``,
Weber 2021: rest restores the capacity), so under full engagement the programme runs its course
in the same days whether antigen is scarce or abundant, and the peak comes near day 8 in lupus and
in lymphoma alike (Kochenderfer 2017). Rest restores part of the capacity, so the precursors keep
renewing a contracting pool
while host T cells are depleted (the lymphopenic amplification, Kimmel 2021); as host T cells
recover the renewal falls below the losses, the pool contracts and B cells return. Stem-like cells
stop differentiating under chronic stimulation and persist at ``d_scm`` (Stein 2019's terminal
phase), outside the competition term.

``f_set`` (``kexp_setting``) is 1 in the reference setting (autoimmune disease; B-ALL) and below 1
where the same product expands less: tisagenlecleucel expands less in large B-cell lymphoma than in
B-ALL (Awasthi 2020), and T cells after several lines of chemotherapy proliferate less (Das 2019,
2020). Without it the model cannot hold both settings: a product whose expansion is limited by
antigen per CAR cell in lupus expands at least as far on the far larger lymphoma burden with the
same host and conditioning, yet in ZUMA-1 the blood count on day 7 is about the infused level
(27.5 cells/uL after 2e6 cells/kg), while the Erlangen lupus peaks reach 70 times theirs.

Every pool dies in every compartment (Park 2025's marrow pool never dies). Cells leave blood for
tissues at ``k_b_tissue`` (a share ``f_lymphoid`` to lymphoid tissue, the rest to marrow) and return
at ``k_tissue_b`` (Singh 2021). The construct acts only through the multipliers ``m_*`` (see
:func:`construct`): costimulation (CD28, 4-1BB, both), generation 1 and 5, and an IL-18 payload.
"""

from __future__ import annotations

import math

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel, shortcut
from immunoreset.model.models.integrated import body, host
from immunoreset.model.models.integrated.frame import CELL_ATOL_SCALE, block

STIM_ATOL_SCALE = 0.1
"""Absolute-tolerance scale of the stimulation history (days of activation; 1e-7 days at the default
tolerance). Below the default 1 so that the Jacobian-pattern probes of this state, which starts at
zero (around a million times the scale), reach down to histories of about a hundred days, where
couplings through the remaining proliferative capacity still show; at the default scale the capacity
is spent at every probe, those couplings are lost in rounding and the typical patient takes four
times more steps. Tighter scales only add rejected steps."""
SLOTS = ("a", "b")
COMPARTMENTS = ("blood", "lymphoid", "marrow")
PHENOTYPES = (
    ("scm", "stem-like/naive"),
    ("cm", "central-memory"),
    ("em", "effector-memory"),
    ("eff", "effector"),
    ("exh", "exhausted"),
)
N_PHEN = len(PHENOTYPES)
N_COMP = len(COMPARTMENTS)
SCM, CM, EM, EFF, EXH = range(N_PHEN)

BLOCK = block(
    tuple(
        State(
            f"car_{s}_{ph}_{c}",
            "cells/uL",
            f"{desc} CAR cells of product slot {s}, {c}",
            CELL_ATOL_SCALE,
        )
        for s in SLOTS
        for c in COMPARTMENTS
        for ph, desc in PHENOTYPES
    )
    + tuple(
        State(
            f"car_{s}_stim",
            "day",
            f"stimulation history (days of activation) of product slot {s}",
            STIM_ATOL_SCALE,
        )
        for s in SLOTS
    ),
    "car_parameters.csv",
    after=host.BLOCK,
)
CAR0 = BLOCK.s0
SLOT_STATES = N_COMP * N_PHEN
STIM0 = BLOCK.x("car_a_stim")

SLOT_PARAMETERS = (
    "pct_cd4", "pct_scm", "pct_cm", "pct_em", "pct_eff", "rec_cd19", "rec_cd20", "rec_bcma",
    "kd_cd19", "kd_cd20", "kd_bcma", "costim_cd28", "costim_41bb", "generation", "payload_il18",
)  # fmt: skip
N_SLOT_PARAMETERS = len(SLOT_PARAMETERS)
SLOT_P0 = BLOCK.p("a_pct_cd4")
assert all(
    BLOCK.p(f"{s}_{n}") == SLOT_P0 + k * N_SLOT_PARAMETERS + i
    for k, s in enumerate(SLOTS)
    for i, n in enumerate(SLOT_PARAMETERS)
), "product-slot parameter rows must share one layout"
(PCT_CD4, PCT_SCM, PCT_CM, PCT_EM, PCT_EFF, REC_CD19, REC_CD20, REC_BCMA, KD_CD19, KD_CD20,
 KD_BCMA, COSTIM_CD28, COSTIM_41BB, GENERATION, PAYLOAD_IL18) = range(N_SLOT_PARAMETERS)  # fmt: skip

(KEXP, RATIO_KEXP, EC50_EXP, EC50_ACT, AG50_CAR, RM1, RM2, RM3, D_SCM, D_MEM, D_EFF, K_EXH, STIM50,
 STIM_HILL, K_REST, D_EXH, H_AMP, RHO_C, K_C, K_B_TISSUE, K_TISSUE_B, F_LYMPHOID, KKILL_MAX, KC50_KILL,
 F_TISSUE_KILL, CD28_KEXP, CD28_DIFF, CD28_EXH, CD28_DEATH, GEN1_KEXP, GEN1_DEATH, IL18_KEXP, GEN5_EXH,
 GEN5_DEATH, IL18_CYTOKINE, KEXP_SETTING) = (
    BLOCK.p(n) for n in (
        "kexp_max_cd8", "ratio_kexp", "ec50_exp", "ec50_act", "ag50_car", "rm1", "rm2", "rm3",
        "d_scm", "d_mem", "d_eff", "k_exh", "stim50", "stim_hill", "k_rest", "d_exh", "h_amp",
        "rho_c", "k_c", "k_b_tissue", "k_tissue_b", "f_lymphoid",
        "kkill_max", "kc50_kill", "f_tissue_kill", "cd28_kexp", "cd28_diff", "cd28_exh",
        "cd28_death", "gen1_kexp", "gen1_death", "il18_kexp", "gen5_exh", "gen5_death",
        "il18_cytokine", "kexp_setting",
    )
)  # fmt: skip
CELLS_PER_UL_PER_L = 1e6
ONE_CELL = 1.0 / CELLS_PER_UL_PER_L
"""One cell in units of cells/uL x L."""
TINY_ANTIGEN = 1e-12
"""Antigen molecules per uL below any that matters; keeps the antigen share defined without antigen
or CAR cells."""


@kernel
def idx(slot: int, comp: int, phen: int) -> int:
    """State index of a CAR pool."""
    return CAR0 + slot * SLOT_STATES + comp * N_PHEN + phen


@kernel
def slot_param(p: np.ndarray, slot: int, which: int) -> float:
    """Product parameter ``which`` (e.g. :data:`REC_CD19`) of a slot."""
    return p[SLOT_P0 + slot * N_SLOT_PARAMETERS + which]


@shortcut
def slot_empty(y: np.ndarray, slot: int) -> bool:
    """True when a slot has no CAR cells and no stimulation history (a product not given, or not
    yet): its derivatives and the antigen it binds are then exactly zero, so the right-hand side
    skips it (a single-product run costs half the CAR and binding work). The full path gives the
    same zeros (every term of :func:`rhs` for the slot, and the share of each antigen it binds, is
    a multiple of its cells or of its history), so the exported equations always take it."""
    for i in range(CAR0 + slot * SLOT_STATES, CAR0 + (slot + 1) * SLOT_STATES):
        if y[i] != 0.0:
            return False
    return y[STIM0 + slot] == 0.0


@kernel
def construct(p: np.ndarray, slot: int) -> tuple[float, float, float, float]:
    """Multipliers (expansion, differentiation, exhaustion, death) of a slot's construct.

    4-1BB generation 2 is the reference (all 1). CD28 applies its multipliers; with 4-1BB as well
    (generation 3) the differentiation, exhaustion and death multipliers are halved in log scale.
    Generation 1 ignores costimulation; generation 5 and an IL-18 payload multiply on top.
    """
    gen = slot_param(p, slot, GENERATION)
    m_exp, m_diff, m_exh, m_death = 1.0, 1.0, 1.0, 1.0
    if gen < 1.5:
        m_exp = p[GEN1_KEXP]
        m_death = p[GEN1_DEATH]
    elif slot_param(p, slot, COSTIM_CD28) > 0.5:
        m_exp = p[CD28_KEXP]
        power = 0.5 if slot_param(p, slot, COSTIM_41BB) > 0.5 else 1.0
        m_diff = p[CD28_DIFF] ** power
        m_exh = p[CD28_EXH] ** power
        m_death = p[CD28_DEATH] ** power
    if gen > 4.5:
        m_exh *= p[GEN5_EXH]
        m_death *= p[GEN5_DEATH]
    if slot_param(p, slot, PAYLOAD_IL18) > 0.5:
        m_exp *= p[IL18_KEXP]
    return m_exp, m_diff, m_exh, m_death


@kernel
def active(y: np.ndarray, slot: int, comp: int) -> float:
    """CAR cells of a slot in a compartment that can engage antigen (all but exhausted)."""
    total = 0.0
    for k in range(EXH):
        total += max(y[idx(slot, comp, k)], 0.0)
    return total


@kernel
def blood_total(y: np.ndarray) -> float:
    total = 0.0
    for s in range(len(SLOTS)):
        for k in range(N_PHEN):
            total += max(y[idx(s, 0, k)], 0.0)
    return total


@kernel
def responsiveness(p: np.ndarray, stim: float) -> float:
    """Share of proliferative capacity left after ``stim`` days of activation (Hill curve)."""
    r = max(stim, 0.0) / p[STIM50]
    return 1.0 / (1.0 + r ** p[STIM_HILL])


@kernel
def _chain(y: np.ndarray, p: np.ndarray, dydt: np.ndarray, slot: int, comp: int, a: float,
           kp: float, g: float, h: float, m_exp: float, m_diff: float,
           m_death: float) -> None:  # fmt: skip
    """One compartment's phenotype chain; ``h`` is the slot's proliferative capacity left and
    ``m_*`` its construct multipliers (the same in every compartment, so computed once)."""
    base = idx(slot, comp, 0)
    scm, cm, em, eff, exh = y[base], y[base + 1], y[base + 2], y[base + 3], y[base + 4]
    to_cm = p[RM1] * m_diff * a * h * scm
    to_em = p[RM2] * m_diff * cm
    to_eff = p[RM3] * m_diff * em
    exh_rate = p[K_EXH] * a * (1.0 - h)
    grow = kp * m_exp * h + g
    # Engaged stem-like cells divide into central-memory daughters (asymmetric division) rather
    # than into more stem-like cells, so the stem-like pool is a reservoir, not an expanding pool;
    # under chronic stimulation it stops differentiating and persists, as TCF1+ stem-like cells do
    # in chronic antigen exposure (Utzschneider 2016 Immunity 45:415; Im 2016 Nature 537:417).
    divide = kp * m_exp * h * scm
    # Stem-like cells keep their own homeostatic niche (no competition term): they carry the
    # long 4-1BB persistence (Stein 2019 terminal half-life 220 days).
    dydt[base] += -p[D_SCM] * m_death * scm - to_cm
    dydt[base + 1] += (grow - p[D_MEM] * m_death - exh_rate) * cm + to_cm + divide - to_em
    dydt[base + 2] += (grow - p[D_MEM] * m_death - exh_rate) * em + to_em - to_eff
    dydt[base + 3] += -(p[D_EFF] + exh_rate) * eff + to_eff
    dydt[base + 4] += exh_rate * (cm + em + eff) - p[D_EXH] * exh


@kernel
def rhs(y: np.ndarray, p: np.ndarray, engaged: np.ndarray, available: np.ndarray,
        lymphopenia: float, suppression: float, dydt: np.ndarray) -> float:  # fmt: skip
    """``engaged[slot, comp]``: engaged receptors per active CAR cell; ``available[slot, comp]``:
    molecules per uL of the antigens the slot recognises (:mod:`.binding`); ``suppression``: share
    of antigen-driven expansion suppressed (corticosteroids, :mod:`.management`). Returns the CAR
    cells in antigen-driven expansion (1e6 cells: cells weighted by their antigen drive and the
    proliferative capacity they have left, and by ``il18_cytokine`` for an IL-18 payload), the
    source of their cytokines: cells that have run their programme or lack antigen make little."""
    vb, vl, vm = body.volumes(p)
    crowd = max(y[host.CD4T] + y[host.CD8T] + blood_total(y), 1.0)
    g = p[RHO_C] * math.log(p[K_C] / crowd)
    boost = (1.0 + p[H_AMP] * lymphopenia) * (1.0 - suppression)
    driven = 0.0
    to_l = p[K_B_TISSUE] * p[F_LYMPHOID]
    to_m = p[K_B_TISSUE] * (1.0 - p[F_LYMPHOID])
    back = p[K_TISSUE_B]
    for s in range(len(SLOTS)):
        if slot_empty(y, s):
            for i in range(CAR0 + s * SLOT_STATES, CAR0 + (s + 1) * SLOT_STATES):
                dydt[i] = 0.0
            dydt[STIM0 + s] = 0.0
            continue
        f4 = slot_param(p, s, PCT_CD4) / 100.0
        kexp = p[KEXP] * ((1.0 - f4) + f4 / p[RATIO_KEXP]) * p[KEXP_SETTING] * boost
        for k in range(N_PHEN):
            ib, il, im = idx(s, 0, k), idx(s, 1, k), idx(s, 2, k)
            dydt[ib] = -(to_l + to_m) * y[ib] + back * (y[il] * vl + y[im] * vm) / vb
            dydt[il] = to_l * y[ib] * vb / vl - back * y[il]
            dydt[im] = to_m * y[ib] * vb / vm - back * y[im]
        volumes = (vb, vl, vm)
        weighted, cells = 0.0, 0.0
        m_exp, m_diff, m_exh, m_death = construct(p, s)
        h = responsiveness(p, y[STIM0 + s] * m_exh)
        inflames = p[IL18_CYTOKINE] if slot_param(p, s, PAYLOAD_IL18) > 0.5 else 1.0
        for c in range(N_COMP):
            e = engaged[s, c]
            n = active(y, s, c)
            # Antigen per CAR cell: the slot's cells share the antigen of the compartment, so the
            # drive falls as they outnumber their targets (half-maximal at ag50_car molecules per
            # cell; De Boer and Perelson 1995). Activation (which runs the programme) needs only a
            # few engaged receptors (EC50_act).
            ag = available[s, c]
            share = ag / (ag + p[AG50_CAR] * n + TINY_ANTIGEN)
            a = e / (p[EC50_EXP] + e) * share
            _chain(y, p, dydt, s, c, a, kexp * a, g, h, m_exp, m_diff, m_death)
            n *= volumes[c]
            weighted += e / (p[EC50_ACT] + e) * n
            cells += n
            driven += a * h * n * inflames
        # Share of the slot's cells activated (engaged at all); one cell (1e-6 in these units) keeps
        # it continuous when the slot is empty. Only the share at rest recovers capacity: with
        # recovery in engaged cells too, the history saturated at 1 / k_rest days under full
        # engagement, and the programme ended days earlier with abundant antigen than with scarce.
        act = weighted / (cells + ONE_CELL)
        dydt[STIM0 + s] = act - p[K_REST] * (1.0 - act) * y[STIM0 + s]
    return driven


@kernel
def infuse(p: np.ndarray, y: np.ndarray, slot: int, cells: float) -> None:
    """Add ``cells`` CAR+ cells to the blood of ``slot``, split by the product's phenotype mix."""
    vb, _, _ = body.volumes(p)
    per_ul = cells / (vb * CELLS_PER_UL_PER_L)
    shares = (
        slot_param(p, slot, PCT_SCM),
        slot_param(p, slot, PCT_CM),
        slot_param(p, slot, PCT_EM),
        slot_param(p, slot, PCT_EFF),
    )
    total = shares[0] + shares[1] + shares[2] + shares[3]
    for k in range(4):
        y[idx(slot, 0, k)] += per_ul * shares[k] / total


@kernel
def kill_rate(p: np.ndarray, theta: np.ndarray, comp: int, cd19: float, cd20: float,
              bcma: float) -> float:  # fmt: skip
    """Killing rate (1/day) of a target cell carrying the given antigen densities in ``comp``.

    ``theta[slot, comp, antigen]`` is the bound fraction of each antigen (:mod:`.binding`), so a
    cell carries ``q`` engaged antigens; killing saturates in ``q`` (Park 2025) and is less
    efficient in tissue than in blood (Hosseini 2020).
    """
    q = 0.0
    for s in range(len(SLOTS)):
        q += cd19 * theta[s, comp, 0] + cd20 * theta[s, comp, 1] + bcma * theta[s, comp, 2]
    efficiency = 1.0 if comp == body.BLOOD else p[F_TISSUE_KILL]
    return p[KKILL_MAX] * efficiency * q / (p[KC50_KILL] + q)
