"""The :class:`~immunoreset.model.core.Model` record of the integrated model."""

from __future__ import annotations

from immunoreset.model.core import Model
from immunoreset.model.models.integrated import management, model, observation

MODEL = Model(
    name="integrated",
    title="Integrated model: CAR products, B lineage with plasma cells, IgG antibodies, SLE",
    reference="immunoreset integrated model, part 1 (docs/model.md); sources per parameter",
    description=(model.__doc__ or "")
    + "\nCompared with Park 2025: every CAR pool dies in every compartment; binding is quasi-steady;"
    " lymphodepletion is two agents dosed on their own days; B cells return through marrow output"
    " with feedback; antibodies are IgG pools fed by short- and long-lived plasma cells.",
    states=model.STATES,
    parameters=model.PARAMETERS,
    inputs=model.INPUTS,
    observables=observation.OBSERVABLES,
    switch_names=management.SWITCH_NAMES,
    initial_state=model.initial_state,
    rhs=model.rhs,
    switches=model.switches,
    dose=model.dose,
    observe=observation.observe,
    default_plots=(
        "car_t_blood",
        "b_cells_blood",
        "anti_dsdna",
        "igg_total",
        "vaccine_titre",
        "c3",
        "proteinuria",
        "cd4_t_blood",
        "neutrophils",
    ),
    notes=(
        "Two product slots: slot a is the product; slot b is the second product of a co-infusion"
        " (input car_t_cells_b). Products map onto slot parameters through"
        " immunoreset.therapy.products.",
        "Lymphodepletion is dosed as fludarabine and cyclophosphamide in mg/m2 on their own days"
        " (inputs fludarabine, cyclophosphamide); there is no lumped 'lymphodepletion' input.",
        "Binding is quasi-steady (equilibrium of CAR receptors with CD19, CD20 and BCMA).",
        "Measurement noise and limits of quantification are applied to result tables by"
        " immunoreset.model.models.integrated.assay, not inside the equations.",
    ),
)
