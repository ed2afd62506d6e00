"""What the Point of Sale sends the server for a paid order, for the tests and the POS benchmark."""

from random import randint

from odoo import Command, fields


def pos_order_data(session, lines, payment_method, user, partner=None, to_invoice=False, refunded_lines=None,
                   paid=None, sequence=1, payments=None):
    """A paid order of ``session`` as ``sync_from_ui`` receives it: ``lines`` are (product, quantity) pairs.

    Each line is priced with its product's price and taxes, as the POS computes them; ``paid`` is the order's
    total when it is not the sum of the lines' totals (VAT excluded from the prices and rounded on the sum).
    """
    line_commands, total = [], 0.0
    for index, (product, quantity) in enumerate(lines):
        taxes = product.taxes_id
        computed = taxes.compute_all(product.lst_price, session.currency_id, quantity, product=product)
        total += computed["total_included"]
        values = {
            "product_id": product.id,
            "qty": quantity,
            "price_unit": product.lst_price,
            "price_subtotal": computed["total_excluded"],
            "price_subtotal_incl": computed["total_included"],
            "tax_ids": [Command.set(taxes.ids)],
            "full_product_name": product.name,
        }
        if refunded_lines:
            values["refunded_orderline_id"] = refunded_lines[index].id
        line_commands.append(Command.create(values))
    total = total if paid is None else paid
    uuid = f"{randint(1, 99999):05d}-{randint(1, 999):03d}-{randint(1, 9999):04d}"
    now = fields.Datetime.to_string(fields.Datetime.now())
    return {
        "uuid": uuid,
        "name": f"Order {uuid}",
        "session_id": session.id,
        "user_id": user.id,
        "sequence_number": sequence,
        "date_order": now,
        "pricelist_id": session.config_id.pricelist_id.id,
        "partner_id": partner.id if partner else False,
        "to_invoice": to_invoice,
        "lines": line_commands,
        "payment_ids": [
            Command.create({"amount": amount, "name": now, "payment_method_id": method.id})
            for method, amount in (payments or [(payment_method, total)])
        ],
        "amount_paid": total,
        "amount_total": total,
        "amount_tax": 0,
        "amount_return": 0,
        "state": "paid",
        "last_order_preparation_change": "{}",
    }
