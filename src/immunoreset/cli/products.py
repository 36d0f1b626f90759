"""``immunoreset products``: the product catalogue, with what each product is modelled on."""

from __future__ import annotations

import argparse

from immunoreset.cli.errors import EXIT_BAD_INPUT, EXIT_OK, fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "products", help="list the CAR products of the catalogue (for 'product: {catalogue: NAME}')"
    )
    p.add_argument("name", nargs="?", help="show one product (catalogue name or file) in full")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from immunoreset.therapy.products import ProductError, list_products, load_product

    if args.name is None:
        for name in list_products():
            product = load_product(name)
            print(f"{name:22s} {product.title}")
            print(f"{'':22s} model {product.model}; modelled on {product.modelled_on}")
            print(f"{'':22s} sources: {'; '.join(product.sources)}")
        return EXIT_OK
    try:
        product = load_product(args.name)
    except ProductError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    print(f"{product.name}: {product.title}")
    print(f"model: {product.model}")
    print(f"modelled on: {product.modelled_on}")
    print(f"default dose: {product.dose.value:g} {product.dose.unit}")
    for source in product.sources:
        print(f"source: {source}")
    for c in product.components:
        values = ", ".join(f"{k} {v:g}" for k, v in c.parameters.items())
        print(f"slot {c.slot} ({c.share:g} of the dose): {values}")
    for note in product.notes:
        print(f"note: {note}")
    return EXIT_OK
