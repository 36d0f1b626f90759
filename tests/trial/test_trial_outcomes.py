"""Trial endpoints from hand-made endpoint tables: flare from the post-treatment nadir, remission,
B-cell return, non-responder imputation of missed visits. Values are exact (integers and days)."""

from __future__ import annotations

import pandas as pd

from immunoreset.endpoints import Endpoints
from immunoreset.trial.design import Endpoint
from immunoreset.trial.outcomes import patient_outcomes, time_to_event

DAYS = [0.0, 28.0, 90.0, 180.0, 365.0]


def _ends(scores: dict[int, list], doris: dict[int, list] | None = None) -> Endpoints:
    visits = []
    for pid, values in scores.items():
        for i, (day, score) in enumerate(zip(DAYS, values, strict=True)):
            remission = (doris or {}).get(pid, [False] * 5)[i]
            visits.append(
                {
                    "patient_id": pid,
                    "visit_day": day,
                    "time": None if score is None else day,
                    "sledai_2k": score,
                    "doris_remission_off_treatment": remission,
                }
            )
    patient = pd.DataFrame(
        {
            "patient_id": list(scores),
            "evaluable": True,
            "b_cell_aplasia_onset_d": [3.0, None, 5.0][: len(scores)],
            "b_cell_reconstitution_d": [110.0, None, None][: len(scores)],
        }
    )
    return Endpoints(patient, pd.DataFrame(visits), pd.DataFrame(), ())


def test_flare_is_a_rise_of_four_from_the_post_treatment_nadir() -> None:
    ends = _ends(
        {
            0: [16, 6, 2, 6, 4],  # nadir 2 at day 90, 6 at day 180 is +4: flare at 180
            1: [16, 8, 6, 9, 9],  # nadir 6, +3 only: no flare, censored at 365
            2: [16, 4, 4, None, 8],  # day 180 missed; 8 at 365 is +4 from 4: flare at 365
        }
    )
    ep = Endpoint(name="flare", kind="time_to_event", event="flare")
    out = time_to_event(ends, ep, pd.Series(365.0, index=[0, 1, 2]), rise=4)
    assert out.set_index("patient_id")[["time", "event"]].to_dict("index") == {
        0: {"time": 180.0, "event": 1},
        1: {"time": 365.0, "event": 0},
        2: {"time": 365.0, "event": 1},
    }


def test_baseline_is_not_the_nadir() -> None:
    ends = _ends({0: [2, 6, 6, 6, 6]})  # a rise from the baseline is not a post-treatment flare
    ep = Endpoint(name="flare", kind="time_to_event", event="flare")
    out = time_to_event(ends, ep, pd.Series(365.0, index=[0]), rise=4)
    assert out["event"].tolist() == [0]


def test_remission_and_b_cell_return() -> None:
    ends = _ends(
        {0: [16, 4, 0, 0, 0], 1: [16, 8, 8, None, None], 2: [16, 4, 2, 0, 0]},
        doris={0: [False, False, True, True, True]},
    )
    last = pd.Series({0: 365.0, 1: 120.0, 2: 365.0})
    remission = time_to_event(
        ends, Endpoint(name="r", kind="time_to_event", event="remission"), last, 4
    )
    assert remission.set_index("patient_id")["time"].to_dict() == {0: 90.0, 1: 90.0, 2: 365.0}
    assert remission["event"].tolist() == [1, 0, 0]
    ret = time_to_event(
        ends, Endpoint(name="b", kind="time_to_event", event="b_cell_return"), last, 4
    )
    # patient 1 was never in aplasia: not evaluable; patient 2 censored at its last day
    assert ret.set_index("patient_id")[["time", "event"]].to_dict("index") == {
        0: {"time": 110.0, "event": 1},
        2: {"time": 365.0, "event": 0},
    }


def test_missed_visit_is_a_non_responder(small_trial) -> None:  # type: ignore[no-untyped-def]
    ends = _ends(
        {0: [16, 4, 0, None, None], 1: [16, 4, 0, 0, 0]},
        doris={0: [False, True, True, True, True], 1: [False, True, True, True, True]},
    )
    design = small_trial.design.model_copy(
        update={
            "endpoints": [
                Endpoint(name="d", kind="binary", column="doris_remission_off_treatment", day=180)
            ],
            "primary": "d",
        }
    )
    out = patient_outcomes(ends, design, pd.Series({0: 150.0, 1: 365.0}))
    assert out.set_index("patient_id")["value"].to_dict() == {0: 0.0, 1: 1.0}
