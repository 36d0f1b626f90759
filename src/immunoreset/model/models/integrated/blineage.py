"""B lineage: marrow precursors, naive and memory B, an autoreactive sub-pool, plasma cells.

States (cells per uL of their compartment): CD19+CD20- marrow precursors; naive and memory B in
blood and lymphoid tissue; autoreactive naive B in blood and lymphoid tissue; activated autoreactive
B (memory/germinal-centre) in lymphoid tissue; short-lived plasma cells and plasmablasts (SLPC,
CD19+ CD20- BCMA+) and long-lived plasma cells in marrow (LLPC, CD19- BCMA+), each split into
autoreactive and other. Which CAR reaches which population follows from the antigen densities.

* CD19+ precursors pass three marrow stages (pro-B, pre-B, immature; Shahaf 2016) of total mean
  residence ``1/k_mat`` (Hosseini 2020) with death ``d_pre`` in each, so a CD19 CAR acts on every
  stage. Production rises up to ``1 + fb_gain`` = 6-fold when mature B cells are depleted (Hosseini
  2020); matured cells enter blood, a share ``f_ar0`` of them autoreactive. Newly made cells carry
  only this baseline share: this is what makes a reset possible.
* Mature B recirculate between blood and lymphoid tissue (Westermann 1992; partition Hosseini 2020),
  die at ``d_b`` (Hosseini 2020) and become memory B at ``k_nm``; memory B become SLPC at ``k_mp``;
  SLPC decay at 0.23/day and seed LLPC that decay at 3.2e-4/day (Pasin 2019).
* Autoreactive naive B are activated at ``k_nm * phi^n`` and activated autoreactive B expand at
  ``r_ar * phi^n`` (logistic), where ``phi`` is disease activity (interferon-alpha relative to
  baseline, :mod:`.sle`) and ``n = n_act``. The disease is then bistable: at baseline activity the
  autoreactive pool sustains itself; after a reset activity falls towards the basal interferon share
  and long-lived-plasma-cell antibody, where activation and expansion no longer outrun losses, so
  remission is drug-free and durable unless a patient's expansion rate is high enough to re-ignite
  the loop (relapse is possible, and only after B cells return).

Every rate not taken from a source (``k_nm``, ``k_mp``, the SLPC -> LLPC seeding, the precursor
source, the logistic capacity) is derived so that the pre-treatment state is a steady state.
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel, where
from immunoreset.model.models.integrated import body, car, conditioning
from immunoreset.model.models.integrated.frame import CELL_ATOL_SCALE, block


def _cells(name: str, description: str) -> State:
    return State(name, "cells/uL", description, CELL_ATOL_SCALE)


BLOCK = block(
    (
        _cells("b_pre1_bm", "CD19+CD20- B precursors (pro-B), marrow"),
        _cells("b_pre2_bm", "CD19+CD20- B precursors (pre-B), marrow"),
        _cells("b_pre3_bm", "CD19+CD20- B precursors (immature B), marrow"),
        _cells("b_nv_bl", "naive B cells, blood"),
        _cells("b_nv_ly", "naive B cells, lymphoid tissue"),
        _cells("b_mem_bl", "memory B cells, blood"),
        _cells("b_mem_ly", "memory B cells, lymphoid tissue"),
        _cells("b_arn_bl", "autoreactive naive B cells, blood"),
        _cells("b_arn_ly", "autoreactive naive B cells, lymphoid tissue"),
        _cells("b_ara_ly", "activated autoreactive B cells, lymphoid tissue"),
        _cells("pc_short", "short-lived plasma cells and plasmablasts (per uL lymphoid)"),
        _cells("pc_short_ar", "autoreactive short-lived plasma cells (per uL lymphoid)"),
        _cells("pc_long", "long-lived plasma cells, marrow"),
        _cells("pc_long_ar", "autoreactive long-lived plasma cells, marrow"),
    ),
    "blineage_parameters.csv",
    after=car.BLOCK,
)
PRE, PRE2, PRE3, NV_BL, NV_LY, MEM_BL, MEM_LY, ARN_BL, ARN_LY, ARA, PBS, PBS_AR, PCL, PCL_AR = (
    BLOCK.s0 + i for i in range(len(BLOCK.states))
)
N_PRE = 3
"""Precursor stages (pro-B, pre-B, immature B; Shahaf 2016) of equal mean residence."""
(B0, KP_LY, F_MEM, F_AR0, F_ARA0, F_PB, F_PB_AR, PC0, K_MAT, D_PRE, FB_GAIN, D_B, K_BLY, D_PB,
 D_LLPC, R_AR, N_ACT, CD19_B, CD19_PRE, CD19_PB, CD20_B, BCMA_MEM, BCMA_PB, BCMA_PC) = (
    BLOCK.p0 + i for i in range(len(BLOCK.parameters))
)  # fmt: skip
assert BLOCK.parameters[BCMA_PC - BLOCK.p0].name == "bcma_pc"


@kernel
def baseline(p: np.ndarray) -> tuple:
    """Pre-treatment pools and the rates derived from them (see the module docstring).

    Returns (nv_bl, nv_ly, mem_bl, mem_ly, arn_bl, arn_ly, ara, pbs, pbs_ar, pcl, pcl_ar, pre
    (last stage), s_pre, k_lyb, k_nm, k_mp, k_ap, k_pl, ara_cap, mature_amount).
    """
    vb, vl, vm = body.volumes(p)
    k_lyb = p[K_BLY] * vb / (p[KP_LY] * vl)
    mem_bl = p[F_MEM] * p[B0]
    naive_bl = (1.0 - p[F_MEM]) * p[B0]
    nv_bl = (1.0 - p[F_AR0]) * naive_bl
    arn_bl = p[F_AR0] * naive_bl
    ly_ref = p[KP_LY] * p[B0]
    ara = p[F_ARA0] * ly_ref
    pb_total = p[F_PB] * ly_ref
    pbs = (1.0 - p[F_PB_AR]) * pb_total
    pbs_ar = p[F_PB_AR] * pb_total
    pcl = (1.0 - p[F_PB_AR]) * p[PC0]
    pcl_ar = p[F_PB_AR] * p[PC0]
    k_pl = p[D_LLPC] * p[PC0] * vm / (pb_total * vl)
    mem_ly = (p[K_BLY] + p[D_B]) * mem_bl * vb / (k_lyb * vl)
    k_mp = (p[D_PB] + k_pl) * pbs / mem_ly
    memory_input = (k_lyb + p[D_B] + k_mp) * mem_ly - p[K_BLY] * mem_bl * vb / vl
    naive_arrival = p[K_BLY] * nv_bl * vb / vl
    k_nm = memory_input * (k_lyb + p[D_B]) / (naive_arrival - memory_input)
    nv_ly = naive_arrival / (k_lyb + p[D_B] + k_nm)
    arn_ly = p[K_BLY] * arn_bl * vb / vl / (k_lyb + p[D_B] + k_nm)
    inflow = ((p[K_BLY] + p[D_B]) * nv_bl - k_lyb * nv_ly * vl / vb) / (1.0 - p[F_AR0])
    k_stage = N_PRE * p[K_MAT]
    pre = inflow * vb / (k_stage * vm)  # last stage; each earlier stage is larger by (k+d)/k
    s_pre = pre * (k_stage + p[D_PRE]) ** N_PRE / k_stage ** (N_PRE - 1)
    k_ap = (p[D_PB] + k_pl) * pbs_ar / ara
    ara_cap = ara / (1.0 - (p[D_B] + k_ap - k_nm * arn_ly / ara) / p[R_AR])
    mature = (nv_bl + mem_bl + arn_bl) * vb + (nv_ly + mem_ly + arn_ly + ara) * vl
    return (nv_bl, nv_ly, mem_bl, mem_ly, arn_bl, arn_ly, ara, pbs, pbs_ar, pcl, pcl_ar, pre,
            s_pre, k_lyb, k_nm, k_mp, k_ap, k_pl, ara_cap, mature)  # fmt: skip


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    b = baseline(p)
    order = (NV_BL, NV_LY, MEM_BL, MEM_LY, ARN_BL, ARN_LY, ARA, PBS, PBS_AR, PCL, PCL_AR, PRE3)
    for i in range(len(order)):
        y0[order[i]] = b[i]
    ratio = (N_PRE * p[K_MAT] + p[D_PRE]) / (N_PRE * p[K_MAT])
    y0[PRE2] = y0[PRE3] * ratio
    y0[PRE] = y0[PRE2] * ratio


@kernel
def precursors(y: np.ndarray) -> float:
    """CD19+ precursors of all stages per uL marrow."""
    return max(y[PRE], 0.0) + max(y[PRE2], 0.0) + max(y[PRE3], 0.0)


@kernel
def feedback(x: float, gain: float) -> float:
    """Precursor production relative to baseline when mature B cells are ``x`` times baseline.

    Below baseline it is Hosseini 2020's ``1 + gain (1 - x)`` (up to ``1 + gain`` with no mature B
    cells); above baseline it continues smoothly as ``x^-gain`` (same value and slope at ``x = 1``)
    instead of a kink at the pre-treatment state, where a solver's Jacobian would be one-sided.
    """
    # Both branches are computed (see where): x ** -gain is inf at x = 0, never an error.
    return where(x < 1.0, 1.0 + gain * (1.0 - x), x ** (-gain))


@kernel
def mature_amount(y: np.ndarray, p: np.ndarray) -> float:
    """Mature B cells in blood and lymphoid tissue (cells/L of blood x L, in units of 1e6)."""
    vb, vl, _ = body.volumes(p)
    blood = y[NV_BL] + y[MEM_BL] + y[ARN_BL]
    lymph = y[NV_LY] + y[MEM_LY] + y[ARN_LY] + y[ARA]
    return blood * vb + lymph * vl


@kernel
def rhs(y: np.ndarray, p: np.ndarray, theta: np.ndarray, phi: float, u_ld: float,
        dydt: np.ndarray) -> float:  # fmt: skip
    """``theta``: bound antigen fractions (:mod:`.binding`); ``phi``: disease activity (1 at
    baseline); ``u_ld``: lymphotoxic exposure rate (:mod:`.conditioning`). Returns the B-lineage
    cells killed by CAR cells (1e6 cells per day), whose death inflames (:mod:`.cytokines`)."""
    vb, vl, vm = body.volumes(p)
    (_, _, _, _, _, _, _, _, _, _, _, _, s_pre, k_lyb, k_nm, k_mp, k_ap, k_pl, ara_cap,
     mature0) = baseline(p)  # fmt: skip
    ld = p[conditioning.LOGKILL_B] * u_ld
    # Kill rates by compartment (0 blood, 1 lymphoid, 2 marrow) and antigen profile.
    k_nv_bl = car.kill_rate(p, theta, 0, p[CD19_B], p[CD20_B], 0.0)
    k_mem_bl = car.kill_rate(p, theta, 0, p[CD19_B], p[CD20_B], p[BCMA_MEM])
    k_nv_ly = car.kill_rate(p, theta, 1, p[CD19_B], p[CD20_B], 0.0)
    k_mem_ly = car.kill_rate(p, theta, 1, p[CD19_B], p[CD20_B], p[BCMA_MEM])
    k_pb = car.kill_rate(p, theta, 1, p[CD19_PB], 0.0, p[BCMA_PB])
    k_pre = car.kill_rate(p, theta, 2, p[CD19_PRE], 0.0, 0.0)
    k_pc = car.kill_rate(p, theta, 2, 0.0, 0.0, p[BCMA_PC])

    k_stage = N_PRE * p[K_MAT]
    out = k_stage + p[D_PRE] + k_pre
    dydt[PRE] = s_pre * feedback(mature_amount(y, p) / mature0, p[FB_GAIN]) - out * y[PRE]
    dydt[PRE2] = k_stage * y[PRE] - out * y[PRE2]
    dydt[PRE3] = k_stage * y[PRE2] - out * y[PRE3]
    inflow = k_stage * y[PRE3] * vm / vb
    drive = phi ** p[N_ACT]
    k_act = k_nm * drive
    for bl, ly, source, kb, kl, out in (
        (NV_BL, NV_LY, (1.0 - p[F_AR0]) * inflow, k_nv_bl, k_nv_ly, k_nm),
        (ARN_BL, ARN_LY, p[F_AR0] * inflow, k_nv_bl, k_nv_ly, k_act),
        (MEM_BL, MEM_LY, 0.0, k_mem_bl, k_mem_ly, k_mp),
    ):
        exchange = p[K_BLY] * y[bl] - k_lyb * y[ly] * vl / vb
        dydt[bl] = source - exchange - (p[D_B] + ld + kb) * y[bl]
        dydt[ly] = exchange * vb / vl - (p[D_B] + ld + kl + out) * y[ly]
    dydt[MEM_LY] += k_nm * y[NV_LY]
    growth = p[R_AR] * drive * (1.0 - y[ARA] / ara_cap)
    dydt[ARA] = k_act * y[ARN_LY] + (growth - p[D_B] - ld - k_ap - k_mem_ly) * y[ARA]
    dydt[PBS] = k_mp * y[MEM_LY] - (p[D_PB] + k_pl + k_pb) * y[PBS]
    dydt[PBS_AR] = k_ap * y[ARA] - (p[D_PB] + k_pl + k_pb) * y[PBS_AR]
    dydt[PCL] = k_pl * y[PBS] * vl / vm - (p[D_LLPC] + k_pc) * y[PCL]
    dydt[PCL_AR] = k_pl * y[PBS_AR] * vl / vm - (p[D_LLPC] + k_pc) * y[PCL_AR]
    blood = k_nv_bl * (y[NV_BL] + y[ARN_BL]) + k_mem_bl * y[MEM_BL]
    lymph = (
        k_nv_ly * (y[NV_LY] + y[ARN_LY]) + k_mem_ly * (y[MEM_LY] + y[ARA])
        + k_pb * (y[PBS] + y[PBS_AR])
    )  # fmt: skip
    marrow = k_pre * (y[PRE] + y[PRE2] + y[PRE3]) + k_pc * (y[PCL] + y[PCL_AR])
    return blood * vb + lymph * vl + marrow * vm
